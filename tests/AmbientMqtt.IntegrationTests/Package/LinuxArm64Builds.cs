using System.Collections.Concurrent;
using AmbientMqtt.IntegrationTests.Infrastructure;

[assembly: AssemblyFixture(typeof(AmbientMqtt.IntegrationTests.Package.LinuxArm64Builds))]

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// The service samples published for a 64-bit Raspberry Pi OS (<c>dotnet publish -r linux-arm64</c>), each build at most
/// once per test run and only when a test asks for it, shared by the tests that check what the publish makes
/// (<see cref="SamplePublishTests"/>) and the ones that run it under emulation (<see cref="ArmEmulationTests"/>). All
/// outputs go to one temp directory, deleted at the end; the publishes share its build artifacts, so the library is
/// compiled once.
/// </summary>
public sealed class LinuxArm64Builds : IDisposable
{
    private readonly ConcurrentDictionary<(string Sample, bool SelfContained), Lazy<Task<CliResult>>> _publishes = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Gets the temp directory that holds every publish.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("ambientmqtt-publish-").FullName;

    /// <summary>Gets the output directory of a sample's publish.</summary>
    /// <param name="sample">The sample's name.</param>
    /// <param name="selfContained">Whether the publish carries the runtime.</param>
    /// <returns>The directory.</returns>
    public string OutputOf(string sample, bool selfContained) =>
        Path.Combine(Root, $"{sample}-{(selfContained ? "self-contained" : "framework-dependent")}");

    /// <summary>
    /// Publishes the sample (or takes the publish made earlier in this run) and returns its output directory; fails the
    /// test if the publish failed or warned, skips it (fails it under <c>CI=true</c>) if the package source has no
    /// linux-arm64 runtime pack.
    /// </summary>
    /// <param name="sample">The sample's name.</param>
    /// <param name="selfContained">Whether the publish carries the runtime.</param>
    /// <returns>The output directory.</returns>
    public async Task<string> PublishAsync(string sample, bool selfContained)
    {
        var result = await _publishes.GetOrAdd((sample, selfContained), key => new(() => RunAsync(key.Sample, key.SelfContained))).Value;
        TestContext.Current.TestOutputHelper?.WriteLine($"{result.Command}: {result.Elapsed.TotalSeconds:0.0} s (shared by every test of this run)");

        if (result.ExitCode != 0 && MissingRuntimePack(result.Output))
        {
            ServerEnvironment.SkipOrFail($"the package source has no linux-arm64 runtime or app host pack for this SDK, so `dotnet publish -r linux-arm64` cannot restore here: {FirstError(result.Output)}");
        }

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().NotContain(": warning ", result.ToString());
        return OutputOf(sample, selfContained);
    }

    public void Dispose()
    {
        _oneAtATime.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<CliResult> RunAsync(string sample, bool selfContained)
    {
        // One at a time: the publishes share the library's build artifacts.
        await _oneAtATime.WaitAsync();
        try
        {
            var project = Path.Combine(SampleProcess.RepositoryRoot(), "samples", sample, sample + ".csproj");
            return await DotnetCli.RunAsync(
                Root,
                ["publish", project, "-c", "Release", "-r", "linux-arm64", "--self-contained", selfContained ? "true" : "false",
                    "-o", OutputOf(sample, selfContained), "--artifacts-path", Path.Combine(Root, "artifacts"), .. DotnetCli.NoServers],
                TimeSpan.FromMinutes(5));
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    private static bool MissingRuntimePack(string output) =>
        output.Split('\n').Any(l => l.Contains("NU110", StringComparison.Ordinal)
            && (l.Contains(".linux-arm64", StringComparison.OrdinalIgnoreCase) || l.Contains("Microsoft.NETCore.App", StringComparison.Ordinal)));

    private static string FirstError(string output) =>
        output.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase))?.Trim() ?? "restore failed";
}
