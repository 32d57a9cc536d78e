using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// An emulated Raspberry Pi: the linux-arm64 self-contained builds of Bme280Publisher and MqttInsert (the ones the README
/// tells a 64-bit Raspberry Pi OS user to publish) run under <c>qemu-aarch64-static</c> against the test broker and a
/// test database, and the readings the publisher printed are the rows in the table. Without qemu-user-static or the
/// arm64 libraries (<c>scripts/install-deps.sh</c> installs both) the test is skipped with the reason, except under
/// <c>CI=true</c>. Under emulation .NET starts slowly (the JIT compiles arm64 code, itself emulated): 50 s in all on
/// a quiet 2-core machine (publishes 18 s, MqttInsert ready 18.5 s later), 3.5 minutes with builds running beside it.
/// </summary>
[Trait("Category", "Publish")]
public sealed partial class ArmEmulationTests(LinuxArm64Builds builds, MqttServer broker, MariaDbFixture mariaDb)
{
    private const string Printed = "publish するデータ:  ";

    // What the self-contained arm64 programs load from the system (Debian 12 multiarch paths; ICU's soname carries its
    // version, 72 on Debian 12).
    private static readonly (string Package, string Pattern)[] Arm64Libraries =
    [
        ("libc6:arm64", "ld-linux-aarch64.so.1"),
        ("libstdc++6:arm64", "libstdc++.so.6"),
        ("libicu72:arm64", "libicuuc.so.*"),
        ("libssl3:arm64", "libssl.so.3"),
        ("zlib1g:arm64", "libz.so.1"),
    ];

    [Fact]
    public async Task Bme280PublisherToMqttInsert_LinuxArm64UnderQemu_PrintedReadingsAreTheRows()
    {
        var emulator = RequireEmulator();
        broker.RequireAvailable();
        var ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        var publisherBuild = await builds.PublishAsync("Bme280Publisher", selfContained: true);
        var insertBuild = await builds.PublishAsync("MqttInsert", selfContained: true);
        var published = clock.Elapsed;
        await using var database = await mariaDb.CreateDatabaseAsync(ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";

        await using var insert = EmulatedProgram.Start(emulator, Path.Combine(insertBuild, "MqttInsert"), [
            $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}",
            $"--Mqtt:ClientId=arm-{Guid.NewGuid():N}"[..24], $"--Database:ConnectionString={database.ConnectionString}"]);
        await insert.WaitForLineAsync("waiting for mqtt message", TimeSpan.FromMinutes(4));
        var insertReady = clock.Elapsed;
        await using var publisher = EmulatedProgram.Start(emulator, Path.Combine(publisherBuild, "Bme280Publisher"), [
            "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.200",
            $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}"]);
        (await MqttInsertRun.WaitForRowsAsync(database, 10, TimeSpan.FromMinutes(4))).Should().BeGreaterThanOrEqualTo(10, publisher.Describe() + insert.Describe());
        var tenRows = clock.Elapsed;

        publisher.Terminate();
        (await publisher.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, publisher.Describe());
        var readings = publisher.Lines.Where(l => l.StartsWith(Printed, StringComparison.Ordinal))
            .Select(l => AmbientPayload.Decode(Encoding.UTF8.GetBytes(l[Printed.Length..])))
            .ToList();
        var rows = await MqttInsertRun.WaitForRowsAsync(database, readings.Count, TimeSpan.FromMinutes(2));
        insert.Terminate();
        var insertExit = await insert.WaitForExitAsync(TimeSpan.FromSeconds(60));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"publishes {published.TotalSeconds:0.0} s; MqttInsert under qemu ready after {(insertReady - published).TotalSeconds:0.0} s; "
            + $"10 rows {(tenRows - insertReady).TotalSeconds:0.0} s after the publisher started; {readings.Count} readings; whole test {clock.Elapsed.TotalSeconds:0.0} s");

        rows.Should().Be(readings.Count, insert.Describe());
        var stored = (await database.QueryAsync("SELECT timestamp, identifier, temperature, humidity, pressure FROM Ambient ORDER BY timestamp"))
            .Select(r => (Timestamp: (DateTime)r[0], Identifier: (string)r[1], T: (double)r[2], H: (double)r[3], P: (double)r[4]))
            .ToList();
        stored.Select(s => s.Timestamp).Should().Equal(readings.Select(Load.Tokyo), "Asia/Tokyo comes from NodaTime's own tzdb, also on arm64");
        stored.Should().AllSatisfy(s => s.Identifier.Should().Be("tochigi_iot_899"));
        stored.Select(s => (s.T, s.H, s.P)).Should().Equal(readings.Select(p => (PythonRound.Round2(p.Temperature), PythonRound.Round2(p.Humidity), PythonRound.Round2(p.Pressure))));
        publisher.Lines.Should().Contain("Connected with result code 0");
        // One line per row, or one per batch when the emulated program falls behind.
        insert.Lines.Should().Contain("db server connected").And.Contain(l => Affected().IsMatch(l));
        insertExit.Should().Be(0, insert.Describe());
    }

    /// <summary>Finds qemu-aarch64-static and checks that it runs arm64 code here; skips (fails under CI=true) if not.</summary>
    private static string RequireEmulator()
    {
        var emulator = new[] { "/usr/bin/qemu-aarch64-static", "/usr/local/bin/qemu-aarch64-static" }.FirstOrDefault(File.Exists);
        if (emulator is null)
        {
            ServerEnvironment.SkipOrFail("qemu-aarch64-static is not installed (Debian package qemu-user-static; scripts/install-deps.sh installs it), so the linux-arm64 builds cannot run here");
        }

        var missing = Arm64Libraries
            .Where(l => !new[] { "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu" }.Any(d => Directory.Exists(d) && Directory.EnumerateFiles(d, l.Pattern).Any()))
            .Select(l => l.Package)
            .ToList();
        if (missing.Count > 0)
        {
            ServerEnvironment.SkipOrFail($"the arm64 libraries the linux-arm64 builds load are missing: {string.Join(' ', missing)} (after `dpkg --add-architecture arm64`; scripts/install-deps.sh installs them)");
        }

        // The arm64 dynamic loader, run by the emulator: proves both work in this sandbox.
        using var probe = Process.Start(new ProcessStartInfo(emulator!, ["-L", "/", "/lib/ld-linux-aarch64.so.1", "--version"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = probe.StandardOutput.ReadToEnd() + probe.StandardError.ReadToEnd();
        probe.WaitForExit();
        if (probe.ExitCode != 0)
        {
            ServerEnvironment.SkipOrFail($"qemu-aarch64-static cannot run arm64 programs here (the arm64 loader exited {probe.ExitCode}): {output.Trim()}");
        }

        return emulator!;
    }

    [GeneratedRegex(@"^ クエリを実行しました。\(\d+ row affected\.\)$")]
    private static partial Regex Affected();
}
