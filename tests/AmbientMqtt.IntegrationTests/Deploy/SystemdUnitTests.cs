using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Deploy;

/// <summary>
/// The unit files of <c>deploy/systemd</c> as systemd reads them: <c>systemd-analyze verify</c> (every key known, every
/// value parsed, the program it starts present and executable) and <c>systemd-analyze security --offline</c> (what the
/// hardening leaves exposed). Both run on a copy installed into a temporary root (the units in its
/// <c>/etc/systemd/system</c>, the programs at their <c>ExecStart</c> paths, the machine's own system units beside them),
/// so nothing of this machine's systemd is touched and no service is started. Skipped without systemd-analyze (package
/// systemd), except under <c>CI=true</c>.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class SystemdUnitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ambientmqtt-units-").FullName;

    public static TheoryData<string> Units => new() { "bme280-publisher.service", "mqtt-insert.service" };

    [Theory]
    [MemberData(nameof(Units))]
    public async Task Verify_InstalledAsTheReadmeSays_NoWarningAtAll(string unit)
    {
        var analyze = RequireSystemdAnalyze();
        var path = Install(unit);

        var (exitCode, output) = await RunAsync(analyze, "verify", "--man=no", $"--root={_root}", path);

        exitCode.Should().Be(0, output);
        output.Should().BeEmpty("systemd-analyze verify warns about an unknown key or a value it cannot parse and then ignores it; no line may be ignored");
    }

    [Theory]
    // Measured 1.8 and 1.5 (8.7 and 8.1 before the hardening); 10 is fully exposed.
    [InlineData("bme280-publisher.service", 2.0)]
    [InlineData("mqtt-insert.service", 1.7)]
    public async Task Security_Hardened_ExposureAtMostTheUnitsOwnCeiling(string unit, double ceiling)
    {
        var analyze = RequireSystemdAnalyze();
        var path = Install(unit);

        var (exitCode, output) = await RunAsync(analyze, "security", "--offline=yes", $"--root={_root}", "--no-pager", path);
        TestContext.Current.TestOutputHelper?.WriteLine(output);

        var exposure = Exposure().Match(output);
        exposure.Success.Should().BeTrue(output);
        double.Parse(exposure.Groups[1].Value, CultureInfo.InvariantCulture).Should().BeLessThanOrEqualTo(ceiling, output);
        exitCode.Should().Be(0, output);
        foreach (var setting in new[] { "NoNewPrivileges=", "ProtectSystem=", "ProtectHome=", "PrivateTmp=", "RestrictNamespaces=~user", "CapabilityBoundingSet=~CAP_SYS_ADMIN", "SystemCallFilter=~@privileged" })
        {
            output.Split('\n').Should().Contain(l => l.Contains("✓ " + setting, StringComparison.Ordinal), $"{unit} should set {setting}");
        }
    }

    [Fact]
    public void Publisher_DeviceAccess_OnlyTheI2cBusesAndItsOwnStateDirectory()
    {
        var publisher = Settings("bme280-publisher.service");
        var insert = Settings("mqtt-insert.service");

        publisher.Should().Contain("DevicePolicy=closed").And.Contain("DeviceAllow=char-i2c rw").And.Contain("SupplementaryGroups=i2c")
            .And.NotContain("PrivateDevices=yes", "a private /dev has no /dev/i2c-1");
        insert.Should().Contain("PrivateDevices=yes");
        publisher.Should().Contain("StateDirectory=bme280-publisher");
        insert.Should().Contain("StateDirectory=mqtt-insert");
        foreach (var settings in new[] { publisher, insert })
        {
            settings.Should().Contain("RestartPreventExitStatus=2", "a bad setting (exit code 2) is not restarted forever")
                .And.NotContain(s => s.StartsWith("MemoryDenyWriteExecute=yes", StringComparison.Ordinal), "the JIT compiler writes code it then executes");
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string RequireSystemdAnalyze()
    {
        var analyze = new[] { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" }.FirstOrDefault(File.Exists);
        if (analyze is null)
        {
            ServerEnvironment.SkipOrFail("systemd-analyze is not installed (Debian package systemd; scripts/install-deps.sh installs it)");
        }

        return analyze!;
    }

    private static string UnitFile(string unit) => Path.Combine(SampleProcess.RepositoryRoot(), "deploy", "systemd", unit);

    /// <summary>The unit's settings, one per line, without comments.</summary>
    private static List<string> Settings(string unit) =>
        File.ReadAllLines(UnitFile(unit)).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#' && l[0] != '[').ToList();

    /// <summary>Installs the unit into the temporary root as README.md's step 5 does, with a stand-in for the program
    /// at its ExecStart path, and returns the unit's path there.</summary>
    private string Install(string unit)
    {
        var systemUnits = new[] { "/usr/lib/systemd/system", "/lib/systemd/system" }.First(Directory.Exists);
        CopyDirectory(systemUnits, Path.Combine(_root, "usr", "lib", "systemd", "system"));
        var installed = Path.Combine(_root, "etc", "systemd", "system", unit);
        Directory.CreateDirectory(Path.GetDirectoryName(installed)!);
        File.Copy(UnitFile(unit), installed, overwrite: true);

        var execStart = Settings(unit).Single(s => s.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..].Split(' ')[0];
        var program = Path.Combine(_root, execStart.TrimStart('/'));
        Directory.CreateDirectory(Path.GetDirectoryName(program)!);
        File.WriteAllText(program, "#!/bin/sh\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return "/" + Path.GetRelativePath(_root, installed);
    }

    private static void CopyDirectory(string from, string to)
    {
        if (Directory.Exists(to))
        {
            return;
        }

        // As cp -a would: the .wants directories hold links, which systemd reads only as links.
        Directory.CreateDirectory(to);
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(to, entry.Name);
            if (entry.LinkTarget is { } link)
            {
                File.CreateSymbolicLink(target, link);
            }
            else if (entry is DirectoryInfo directory)
            {
                CopyDirectory(directory.FullName, target);
            }
            else
            {
                File.Copy(entry.FullName, target);
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["SYSTEMD_COLORS"] = "0", ["SYSTEMD_PAGER"] = string.Empty, ["LC_ALL"] = "C.UTF-8" },
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
    }

    [GeneratedRegex(@"Overall exposure level for \S+: (\d+\.\d+)")]
    private static partial Regex Exposure();
}
