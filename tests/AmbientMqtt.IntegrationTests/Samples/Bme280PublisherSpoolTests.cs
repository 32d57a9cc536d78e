using System.Diagnostics;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Samples;

/// <summary>Bme280Publisher with <c>Publish:SpoolPath</c>, as a process: what a user sees when the spool file is bad, cannot
/// be opened, or holds readings when the program is stopped.</summary>
public sealed class Bme280PublisherSpoolTests : IDisposable
{
    private const string Printed = "publish するデータ:  ";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("ambientmqtt-spool-").FullName;

    private string Spool => Path.Combine(_directory, "spool");

    [Fact]
    public async Task SpoolFileThatIsNotASpool_OneWarningANewSpoolAndReadingsFlow()
    {
        await using var broker = await MqttServer.StartPrivateAsync();
        const string topic = "test/spool/corrupt";
        await File.WriteAllTextAsync(Spool, "{\"this\": \"is not a spool\"}", TestContext.Current.CancellationToken);
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        await using var program = Start(broker, topic);

        var received = await collector.WaitForCountAsync(5, Timeout);
        program.Terminate();

        (await program.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, program.Describe());
        received.Should().HaveCountGreaterThanOrEqualTo(5);
        program.Errors.Should().ContainSingle(l => l.Contains("is not a spool (bad header); renamed to", StringComparison.Ordinal), program.Describe());
        Directory.GetFiles(_directory, "spool.corrupt-*").Should().ContainSingle()
            .Which.Should().Match(p => File.ReadAllText(p).Contains("is not a spool", StringComparison.Ordinal));
        AmbientPayload.Decode(Encoding.UTF8.GetBytes(received[0])).Sequence.Should().Be(0, "a new spool numbers from 0");
    }

    [Fact]
    public async Task SpoolPathUnderAFile_ExitCode2WithOneLineNamingTheKey()
    {
        var file = Path.Combine(_directory, "a-file");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);
        await using var program = SampleProcess.Start("Bme280Publisher", [
            "--Sensor:Kind=simulated", "--Mqtt:Port=1", $"--Publish:SpoolPath={Path.Combine(file, "spool")}"]);

        var exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(2, program.Describe());
        program.Errors.Should().ContainSingle(program.Describe())
            .Which.Should().StartWith($"configuration error: Publish:SpoolPath: cannot open '{Path.Combine(file, "spool")}': ");
    }

    [Fact]
    public async Task SigtermWhileTheBrokerIsDown_ExitsAtOnceAndTheNextStartSendsWhatWasPrinted()
    {
        await using var broker = await MqttServer.StartPrivateAsync();
        const string topic = "test/spool/sigterm";
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        await broker.StopAsync();
        List<string> printed;
        await using (var first = Start(broker, topic))
        {
            await first.WaitForOutputAsync(_ => first.CountOutput(l => l.StartsWith(Printed, StringComparison.Ordinal)) >= 10, Timeout);
            var clock = Stopwatch.StartNew();
            first.Terminate();
            (await first.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, first.Describe());
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the readings are on disk: nothing to wait for (the in-memory queue waits 10 s)");
            first.Errors.Should().Contain(l => l.Contains("stay in the spool", StringComparison.Ordinal), first.Describe());
            printed = first.Output.Where(l => l.StartsWith(Printed, StringComparison.Ordinal)).Select(l => l[Printed.Length..]).ToList();
        }

        await broker.StartAsync();
        await using var second = Start(broker, topic);
        var received = await collector.WaitForCountAsync(printed.Count + 5, Timeout);
        second.Terminate();
        (await second.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, second.Describe());

        received.Take(printed.Count).Should().Equal(printed, "the spool goes first, oldest first, before the new readings");
        second.Errors.Should().Contain(l => l.Contains($"{printed.Count} reading(s) kept from an earlier run", StringComparison.Ordinal), second.Describe());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private SampleProcess Start(PrivateMosquitto broker, string topic) => SampleProcess.Start("Bme280Publisher", [
        "--Sensor:Kind=simulated", "--Publish:Interval=00:00:00.100", "--Publish:Identifier=node-s",
        $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", $"--Mqtt:Topic={topic}", $"--Mqtt:ClientId=spool-{Guid.NewGuid():N}"[..40],
        $"--Publish:SpoolPath={Spool}"]);
}
