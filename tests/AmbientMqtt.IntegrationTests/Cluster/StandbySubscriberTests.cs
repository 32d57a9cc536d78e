using AmbientMqtt.IntegrationTests.Infrastructure;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Cluster;

/// <summary>
/// Standby subscribers: two MqttInsert on the same filter, no sharing, each with its own client id, so each receives and
/// writes every reading and the table's unique key makes the second copy a no-op. One is killed with SIGKILL and not
/// restarted: the other one was storing every reading anyway, so nothing waits for the dead one.
/// </summary>
public sealed class StandbySubscriberTests(MqttServer broker, MariaDbFixture mariaDb)
{
    private static readonly TimeSpan RowTimeout = TimeSpan.FromSeconds(180);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TwoStandbyMqttInsert_OneKilledAndNotRestarted_EveryReadingStoredOnceAndNoneDelayedOverASecond()
    {
        broker.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(Ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        const int Count = 30_000;
        var starting = System.Diagnostics.Stopwatch.StartNew();
        await using var a = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, "standby-a-" + Guid.NewGuid().ToString("N")[..8], database.ConnectionString);
        var startToReady = starting.Elapsed;
        await using var b = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, "standby-b-" + Guid.NewGuid().ToString("N")[..8], database.ConnectionString);
        await using var clock = new OutputClock(b);
        var published = 0;

        // Readings stamped with the moment they are published, a few thousand a second, so that a stored row tells how
        // long its reading waited.
        var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, StandbyReadings.Now(Count, () => Interlocked.Increment(ref published)), window: 50, Ct, pauseEvery: 100);
        while (Volatile.Read(ref published) < Count / 3)
        {
            await Task.Delay(5, Ct);
        }

        a.KillHard();
        var killedAt = SystemClock.Instance.GetCurrentInstant();
        await a.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await publishing;
        var rows = await MqttInsertRun.WaitForRowsAsync(database, Count, RowTimeout);
        (await MqttInsertOutput.WaitForOfferedAsync(b, Count, RowTimeout)).Should().BeGreaterThanOrEqualTo(Count);
        b.Terminate();
        var exitCode = await b.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var waits = clock.Waits();

        rows.Should().Be(Count, b.Describe());
        (await database.ScalarAsync("SELECT COUNT(DISTINCT identifier, timestamp) FROM Ambient")).Should().Be(Count);
        (await database.ScalarAsync("SELECT COUNT(*) FROM Ambient_rejected")).Should().Be(0);
        exitCode.Should().Be(0, b.Describe());
        var afterKill = waits.Where(w => w.Arrived >= killedAt).Select(w => w.Wait.TotalMilliseconds).Order().ToList();
        var beforeKill = waits.Where(w => w.Arrived < killedAt).Select(w => w.Wait.TotalMilliseconds).Order().ToList();
        afterKill.Should().NotBeEmpty();
        var stopped = MqttInsertOutput.Stopped(b);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"two standby MqttInsert, one killed at reading {Count / 3} and not restarted: {rows} rows, the survivor {stopped.Inserted} inserted + {stopped.Duplicates} duplicates; "
            + $"its oldest reading per output line waited at most {beforeKill.LastOrDefault():0} ms before the kill and {afterKill[^1]:0} ms after it "
            + $"(median {afterKill[afterKill.Count / 2]:0} ms; upper bounds: a summary line may come 200 ms after its commit); "
            + $"MqttInsert took {startToReady.TotalSeconds:0.0} s from its start to \"waiting for mqtt message\"");
        afterKill[^1].Should().BeLessThan(1000, "the survivor had every reading already; nothing waited for the dead one");
    }
}
