using AmbientMqtt.IntegrationTests.Infrastructure;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Cluster;

/// <summary>
/// Three MqttInsert on one shared group (<c>Mqtt:SharedGroup</c>, each its own client id and persistent session) on
/// mosquitto 2.0.11: one is killed with SIGKILL a third of the way through 30,000 readings and started again 5 s later
/// with the same client id. mosquitto keeps routing every third reading to the dead member's session, so that share
/// waits for the restart; nothing is lost and nothing is stored twice.
/// </summary>
public sealed class SharedGroupTests(MqttServer broker, MariaDbFixture mariaDb)
{
    private static readonly TimeSpan RowTimeout = TimeSpan.FromSeconds(180);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ThreeMqttInsertOnOneSharedGroup_OneKilledAndRestarted5sLater_EveryReadingStoredOnceItsShareWaited()
    {
        broker.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(Ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        var group = "g" + Guid.NewGuid().ToString("N")[..8];
        const int Count = 30_000;
        var ids = Enumerable.Range(0, 3).Select(i => $"shared-{i}-{group}").ToArray();
        SampleProcess Start(int member) => MqttInsertRun.Start(broker.Host, broker.Port, topic, ids[member], database.ConnectionString, $"--Mqtt:SharedGroup={group}");
        var members = new List<SampleProcess>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                members.Add(Start(i));
            }

            foreach (var member in members)
            {
                await member.WaitForOutputAsync(l => l == "waiting for mqtt message", TimeSpan.FromSeconds(60));
            }

            await using var clock0 = new OutputClock(members[0]);
            await using var clock1 = new OutputClock(members[1]);
            var published = 0;
            var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, StandbyReadings.Now(Count, () => Interlocked.Increment(ref published)), window: 50, Ct, pauseEvery: 100);
            while (Volatile.Read(ref published) < Count / 3)
            {
                await Task.Delay(5, Ct);
            }

            members[2].KillHard();
            var killedAt = SystemClock.Instance.GetCurrentInstant();
            await members[2].WaitForExitAsync(TimeSpan.FromSeconds(10));
            var storedBeforeKill = MqttInsertOutput.Offered(members[2]);
            await Task.Delay(TimeSpan.FromSeconds(5), Ct);
            var restarted = Start(2);
            members.Add(restarted);
            var restartedAt = SystemClock.Instance.GetCurrentInstant();
            await using var clock2 = new OutputClock(restarted);
            await restarted.WaitForOutputAsync(l => l == "waiting for mqtt message", TimeSpan.FromSeconds(60));
            var readyAt = SystemClock.Instance.GetCurrentInstant();
            await publishing;
            var rows = await MqttInsertRun.WaitForRowsAsync(database, Count, RowTimeout);
            var distinct = await database.ScalarAsync("SELECT COUNT(DISTINCT identifier, timestamp) FROM Ambient");
            var rejected = await database.ScalarAsync("SELECT COUNT(*) FROM Ambient_rejected");

            foreach (var member in new[] { members[0], members[1], restarted })
            {
                member.Terminate();
            }

            var exitCodes = new List<int>();
            foreach (var member in new[] { members[0], members[1], restarted })
            {
                exitCodes.Add(await member.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            }

            var waited = clock2.Waits().Select(w => w.Wait.TotalSeconds).Order().ToList();
            var living = clock0.Waits().Concat(clock1.Waits()).Where(w => w.Arrived > killedAt && w.Arrived < readyAt).Select(w => w.Wait.TotalMilliseconds).Order().ToList();
            var stopped = new[] { members[0], members[1], restarted }.Select(MqttInsertOutput.Stopped).ToList();
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"three MqttInsert on one shared group, {Count} readings, member 3 killed at reading {Count / 3} (it had stored {storedBeforeKill}) and started again 5 s later "
                + $"(ready {(readyAt - restartedAt).TotalSeconds:0.0} s after its start): {rows} rows; the restarted member stored {stopped[2].Inserted} + {stopped[2].Duplicates} duplicates, "
                + $"their oldest per output line having waited up to {waited.LastOrDefault():0.0} s (median {(waited.Count > 0 ? waited[waited.Count / 2] : 0):0.0} s); "
                + $"the living members' readings meanwhile waited at most {living.LastOrDefault():0} ms; inserted {string.Join(" + ", stopped.Select(s => s.Inserted))}");

            rows.Should().Be(Count, string.Join(Environment.NewLine, members.Select(m => m.Describe())));
            distinct.Should().Be(Count);
            rejected.Should().Be(0);
            exitCodes.Should().AllBeEquivalentTo(0);
            stopped[2].Inserted.Should().BeGreaterThan(0, "mosquitto kept the dead member's share in its session for it");
            waited.Should().NotBeEmpty();
            waited[^1].Should().BeGreaterThan(4, "that share waited for the restart, 5 s after the kill");
        }
        finally
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }
        }
    }
}
