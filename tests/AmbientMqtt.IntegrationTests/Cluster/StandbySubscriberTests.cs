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
    public async Task TwoStandbyMqttInsert_OneKilledAndNotRestarted_EveryReadingStoredOnceAndNoneDelayedOverASecondByTheKill()
    {
        broker.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(Ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        const int Count = 30_000;
        var starting = System.Diagnostics.Stopwatch.StartNew();
        await using var a = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, "standby-a-" + Guid.NewGuid().ToString("N")[..8], database.ConnectionString);
        var startToReady = starting.Elapsed;
        await using var b = await MqttInsertRun.StartReadyAsync(broker.Host, broker.Port, topic, "standby-b-" + Guid.NewGuid().ToString("N")[..8], database.ConnectionString);
        await using var clockA = new OutputClock(a);
        await using var clockB = new OutputClock(b);
        var published = 0;

        // Readings stamped with the moment they are published, at most about 3,000 a second (a pause of 10 ms after
        // every 30), so that a stored row tells how long its reading waited.
        var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, StandbyReadings.Now(Count, () => Interlocked.Increment(ref published)), window: 30, Ct, pauseEvery: 30);
        while (Volatile.Read(ref published) < Count / 3)
        {
            await Task.Delay(5, Ct);
        }

        // The worse case: the one that inserts, so that the survivor is the one that was finding every row stored.
        var aLeads = MqttInsertOutput.Inserted(a) >= MqttInsertOutput.Inserted(b);
        var (dead, survivor, clock) = aLeads ? (a, b, clockB) : (b, a, clockA);
        dead.KillHard();
        var killedAt = SystemClock.Instance.GetCurrentInstant();
        await dead.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await publishing;
        var rows = await MqttInsertRun.WaitForRowsAsync(database, Count, RowTimeout);
        (await MqttInsertOutput.WaitForOfferedAsync(survivor, Count, RowTimeout)).Should().BeGreaterThanOrEqualTo(Count);
        survivor.Terminate();
        var exitCode = await survivor.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var waits = clock.Waits();

        rows.Should().Be(Count, survivor.Describe());
        (await database.ScalarAsync("SELECT COUNT(DISTINCT identifier, timestamp) FROM Ambient")).Should().Be(Count);
        (await database.ScalarAsync("SELECT COUNT(*) FROM Ambient_rejected")).Should().Be(0);
        exitCode.Should().Be(0, survivor.Describe());
        var afterKill = waits.Where(w => w.Arrived >= killedAt).Select(w => w.Wait.TotalMilliseconds).Order().ToList();
        var beforeKill = waits.Where(w => w.Arrived < killedAt).Select(w => w.Wait.TotalMilliseconds).Order().ToList();
        afterKill.Should().NotBeEmpty();
        var stopped = MqttInsertOutput.Stopped(survivor);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"two standby MqttInsert, the one inserting killed at reading {Count / 3} and not restarted: {rows} rows, the survivor {stopped.Inserted} inserted + {stopped.Duplicates} duplicates; "
            + $"its oldest reading per output line waited at most {beforeKill.LastOrDefault():0} ms before the kill and {afterKill[^1]:0} ms after it "
            + $"(median {afterKill[afterKill.Count / 2]:0} ms; upper bounds: a summary line may come 200 ms after its commit); "
            + $"MqttInsert took {startToReady.TotalSeconds:0.0} s from its start to \"waiting for mqtt message\"");
        // The survivor had every reading already; what it lags behind the stream (it takes the slower path, finding rows
        // stored) it lagged before the kill too. The kill itself may add no more than a second.
        afterKill[^1].Should().BeLessThan(beforeKill.LastOrDefault() + 1000, "nothing waited for the dead one");
    }
}
