using System.Buffers.Binary;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// The two service samples publish for a 64-bit Raspberry Pi OS (<c>dotnet publish -r linux-arm64</c>), build only,
/// framework-dependent and self-contained. Build outputs go to a temp directory. Run on their own with
/// <c>--filter-trait "Category=Publish"</c>.
/// </summary>
[Trait("Category", "Publish")]
public sealed class SamplePublishTests(SamplePublishTests.Workspace workspace) : IClassFixture<SamplePublishTests.Workspace>
{
    // ELF e_machine of an AArch64 executable.
    private const ushort MachineAArch64 = 0xB7;

    [Theory]
    [InlineData("Bme280Publisher")]
    [InlineData("MqttInsert")]
    public async Task Publish_LinuxArm64FrameworkDependent_MakesAnArm64AppHostAndTheAssemblies(string sample)
    {
        var output = await PublishAsync(sample, selfContained: false);

        ElfMachine(Path.Combine(output, sample)).Should().Be(MachineAArch64, "the app host is an arm64 Linux executable");
        File.Exists(Path.Combine(output, sample + ".dll")).Should().BeTrue();
        File.Exists(Path.Combine(output, "AmbientMqtt.dll")).Should().BeTrue();
        File.ReadAllText(Path.Combine(output, sample + ".runtimeconfig.json")).Should().Contain("Microsoft.NETCore.App");
        File.Exists(Path.Combine(output, "libcoreclr.so")).Should().BeFalse("a framework-dependent app uses the runtime installed on the Pi");
    }

    [Fact]
    public async Task Publish_LinuxArm64SelfContained_CarriesAnArm64Runtime()
    {
        var output = await PublishAsync("Bme280Publisher", selfContained: true);

        ElfMachine(Path.Combine(output, "Bme280Publisher")).Should().Be(MachineAArch64);
        ElfMachine(Path.Combine(output, "libcoreclr.so")).Should().Be(MachineAArch64, "the runtime it carries is the arm64 one");
        File.Exists(Path.Combine(output, "System.Private.CoreLib.dll")).Should().BeTrue();
        File.Exists(Path.Combine(output, "AmbientMqtt.dll")).Should().BeTrue();
    }

    private async Task<string> PublishAsync(string sample, bool selfContained)
    {
        var project = Path.Combine(SampleProcess.RepositoryRoot(), "samples", sample, sample + ".csproj");
        var output = Path.Combine(workspace.Root, $"{sample}-{(selfContained ? "self-contained" : "framework-dependent")}");
        var result = await DotnetCli.RunAsync(
            workspace.Root,
            ["publish", project, "-c", "Release", "-r", "linux-arm64", "--self-contained", selfContained ? "true" : "false",
                "-o", output, "--artifacts-path", Path.Combine(workspace.Root, "artifacts"), .. DotnetCli.NoServers],
            TimeSpan.FromMinutes(5));
        TestContext.Current.TestOutputHelper?.WriteLine($"{result.Command}: {result.Elapsed.TotalSeconds:0.0} s");

        if (result.ExitCode != 0 && MissingRuntimePack(result.Output))
        {
            ServerEnvironment.SkipOrFail($"the package source has no linux-arm64 runtime or app host pack for this SDK, so `dotnet publish -r linux-arm64` cannot restore here: {FirstError(result.Output)}");
        }

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().NotContain(": warning ", result.ToString());
        return output;
    }

    private static bool MissingRuntimePack(string output) =>
        output.Split('\n').Any(l => l.Contains("NU110", StringComparison.Ordinal)
            && (l.Contains(".linux-arm64", StringComparison.OrdinalIgnoreCase) || l.Contains("Microsoft.NETCore.App", StringComparison.Ordinal)));

    private static string FirstError(string output) =>
        output.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase))?.Trim() ?? "restore failed";

    private static ushort ElfMachine(string path)
    {
        File.Exists(path).Should().BeTrue($"{path} should have been published");
        Span<byte> header = stackalloc byte[20];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(header);
        }

        header[..4].SequenceEqual("\u007fELF"u8).Should().BeTrue($"{path} should be an ELF file");
        return BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
    }

    /// <summary>One temp directory for the class: the publishes share their build artifacts (the library is compiled
    /// once), and it is deleted at the end.</summary>
    public sealed class Workspace : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("ambientmqtt-publish-").FullName;

        public void Dispose()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
