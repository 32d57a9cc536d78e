using System.Collections.Concurrent;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// The two publishers published as Native AOT for this machine (<c>dotnet publish -r linux-x64 -p:PublishAot=true</c>),
/// each at most once per test run, into one temp directory deleted at the end. The native toolchain (clang, lld) is
/// what a user installs for it too; without it the tests are skipped (failed under <c>CI=true</c>).
/// </summary>
public sealed class NativeAotBuilds : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<CliResult>>> _publishes = new();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Gets the temp directory that holds every publish.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("ambientmqtt-aot-").FullName;

    /// <summary>
    /// Publishes the sample as Native AOT (or takes the publish made earlier in this run) and returns the path of its
    /// executable; fails the test if the publish failed or warned (a trimming or AOT warning is a setting that may be
    /// ignored at run time), skips it if clang or lld is missing.
    /// </summary>
    /// <param name="sample">The sample's name.</param>
    /// <returns>The executable.</returns>
    public async Task<string> PublishAsync(string sample)
    {
        var missing = new[] { "clang", "ld.lld" }.Where(tool => !OnPath(tool)).ToList();
        if (missing.Count > 0)
        {
            ServerEnvironment.SkipOrFail($"Native AOT needs a C toolchain: {string.Join(" and ", missing)} not found in PATH (Debian packages clang lld; scripts/install-deps.sh installs them)");
        }

        var result = await _publishes.GetOrAdd(sample, key => new(() => RunAsync(key))).Value;
        TestContext.Current.TestOutputHelper?.WriteLine($"{result.Command}: {result.Elapsed.TotalSeconds:0.0} s (shared by every test of this run)");
        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().NotContain(": warning ", result.ToString());
        var executable = Path.Combine(Root, sample, sample);
        File.Exists(executable).Should().BeTrue(result.ToString());
        File.Exists(Path.Combine(Root, sample, sample + ".dll")).Should().BeFalse("a Native AOT build is one executable, no assemblies to JIT");
        return executable;
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

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, tool)));

    private async Task<CliResult> RunAsync(string sample)
    {
        // One at a time: the publishes share the library's build artifacts, and each native link takes both cores.
        await _oneAtATime.WaitAsync();
        try
        {
            var project = Path.Combine(SampleProcess.RepositoryRoot(), "samples", sample, sample + ".csproj");
            return await DotnetCli.RunAsync(
                Root,
                ["publish", project, "-c", "Release", "-r", "linux-x64", "-p:PublishAot=true",
                    "-o", Path.Combine(Root, sample), "--artifacts-path", Path.Combine(Root, "artifacts"), .. DotnetCli.NoServers],
                TimeSpan.FromMinutes(10));
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
