using System.Buffers.Binary;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// The two service samples publish for a 64-bit Raspberry Pi OS (<c>dotnet publish -r linux-arm64</c>), framework-dependent
/// and self-contained: what the publish makes. The publishes are <see cref="LinuxArm64Builds"/>, shared with the test
/// that runs them under emulation. Run on their own with <c>--filter-trait "Category=Publish"</c>.
/// </summary>
[Trait("Category", "Publish")]
public sealed class SamplePublishTests(LinuxArm64Builds builds)
{
    // ELF e_machine of an AArch64 executable.
    private const ushort MachineAArch64 = 0xB7;

    [Theory]
    [InlineData("Bme280Publisher")]
    [InlineData("MqttInsert")]
    public async Task Publish_LinuxArm64FrameworkDependent_MakesAnArm64AppHostAndTheAssemblies(string sample)
    {
        var output = await builds.PublishAsync(sample, selfContained: false);

        ElfMachine(Path.Combine(output, sample)).Should().Be(MachineAArch64, "the app host is an arm64 Linux executable");
        File.Exists(Path.Combine(output, sample + ".dll")).Should().BeTrue();
        File.Exists(Path.Combine(output, "AmbientMqtt.dll")).Should().BeTrue();
        File.ReadAllText(Path.Combine(output, sample + ".runtimeconfig.json")).Should().Contain("Microsoft.NETCore.App");
        File.Exists(Path.Combine(output, "libcoreclr.so")).Should().BeFalse("a framework-dependent app uses the runtime installed on the Pi");
    }

    [Fact]
    public async Task Publish_LinuxArm64SelfContained_CarriesAnArm64Runtime()
    {
        var output = await builds.PublishAsync("Bme280Publisher", selfContained: true);

        ElfMachine(Path.Combine(output, "Bme280Publisher")).Should().Be(MachineAArch64);
        ElfMachine(Path.Combine(output, "libcoreclr.so")).Should().Be(MachineAArch64, "the runtime it carries is the arm64 one");
        File.Exists(Path.Combine(output, "System.Private.CoreLib.dll")).Should().BeTrue();
        File.Exists(Path.Combine(output, "AmbientMqtt.dll")).Should().BeTrue();
    }

    internal static ushort ElfMachine(string path)
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
}
