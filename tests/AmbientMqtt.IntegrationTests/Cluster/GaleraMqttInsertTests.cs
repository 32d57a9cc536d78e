using System.Diagnostics;
using System.Globalization;
using AmbientMqtt.IntegrationTests.Infrastructure;
using MySqlConnector;

namespace AmbientMqtt.IntegrationTests.Cluster;

/// <summary>
/// MqttInsert, as a process, between a real mosquitto and a three-node Galera cluster: the node it writes through killed
/// with SIGKILL mid-stream and restarted; two standby MqttInsert on the same filter writing the same readings
/// through two different nodes, where Galera refuses one of two conflicting commits.
/// </summary>
[Collection(GaleraCollection.Name)]
public sealed class GaleraMqttInsertTests(GaleraFixture fixture, MqttServer broker)
{
    private static readonly TimeSpan RowTimeout = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MqttInsert_NodeItWritesThroughKilledMidStreamAndRestarted_EveryReadingStoredExactlyOnce()
    {
        broker.RequireAvailable();
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        const int Count = 3000;
        var readings = Load.Readings(Count);
        await using var insert = await MqttInsertRun.StartReadyAsync(
            broker.Host, broker.Port, topic, "galera-" + Guid.NewGuid().ToString("N")[..8], db.ConnectionString);
        var commitsBefore = await cluster.Nodes[0].StatusNumberAsync("wsrep_local_commits", Ct);

        // About 1,000 readings a second, so that the stream outlasts the kill and the restart.
        var publishing = Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Select(r => AmbientPayload.Encode(r)), window: 10, Ct, pauseEvery: 10);
        var atKill = await WaitForRowsOnAsync(cluster, 1, db.Name, Count / 3);
        (await cluster.Nodes[0].StatusNumberAsync("wsrep_local_commits", Ct)).Should().BeGreaterThan(commitsBefore, "MqttInsert writes through the first node of its connection string");
        await cluster.KillAsync(0);
        var killed = Stopwatch.StartNew();

        // The longest time the table did not grow while the dead node was being evicted: commits on the others wait for
        // a member that no longer answers until it is declared dead (evs.suspect_timeout, 3 s here, 5 s by default).
        var stall = await LongestStallAsync(cluster, 1, db.Name, Count, TimeSpan.FromSeconds(5));
        var restart = Stopwatch.StartNew();
        await cluster.RestartAsync(0, Ct);
        var rejoin = restart.Elapsed;
        await publishing;
        var rows = await WaitForRowsOnAsync(cluster, 1, db.Name, Count);
        insert.Terminate();
        var exitCode = await insert.WaitForExitAsync(TimeSpan.FromSeconds(30));

        rows.Should().Be(Count, insert.Describe());
        atKill.Should().BeLessThan(Count, "the kill must land mid-stream");
        foreach (var node in cluster.Nodes)
        {
            (await QueryOnAsync(cluster, node.Index, db.Name, "SELECT COUNT(*) FROM `Ambient`")).Should().Be(Count, $"{node.Name} holds every reading once");
            (await QueryOnAsync(cluster, node.Index, db.Name, "SELECT COUNT(DISTINCT timestamp) FROM `Ambient`")).Should().Be(Count);
        }

        (await QueryOnAsync(cluster, 1, db.Name, "SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0);
        exitCode.Should().Be(0, insert.Describe());
        var stopped = MqttInsertOutput.Stopped(insert);
        (stopped.Inserted + stopped.Duplicates).Should().BeGreaterThanOrEqualTo(Count);
        stopped.Rejected.Should().Be(0);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"MqttInsert through a killed node: {Count} readings, node 1 killed at {atKill} rows and restarted once the others went on; the table stood still for at most {stall.TotalSeconds:0.0} s in the 5 s after; "
            + $"node 1 restarted (recover, IST) and Synced in {rejoin.TotalSeconds:0.0} s; MqttInsert: {stopped.Inserted} inserted, {stopped.Duplicates} duplicates, exit code {exitCode}");
    }

    [Fact]
    public async Task TwoStandbyMqttInsertThroughTwoNodes_SameReadings_EveryReadingOnceConflictsRetriedNothingRejected()
    {
        broker.RequireAvailable();
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        const int Count = 3000;
        var readings = Load.Readings(Count);

        // The same filter, no sharing, distinct client ids: each receives every reading. Each has the three nodes in its
        // connection string, but a different one first.
        await using var a = await MqttInsertRun.StartReadyAsync(
            broker.Host, broker.Port, topic, "standby-a-" + Guid.NewGuid().ToString("N")[..8], cluster.ConnectionString(db.Name, 0, 1, 2));
        await using var b = await MqttInsertRun.StartReadyAsync(
            broker.Host, broker.Port, topic, "standby-b-" + Guid.NewGuid().ToString("N")[..8], cluster.ConnectionString(db.Name, 1, 2, 0));
        var conflictsBefore = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct) + await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct);

        // A steady stream, as sensors send: both standbys get each reading at about the same moment and write it at once,
        // so their commits meet on the same keys (in a burst one of them runs ahead and finds everything stored).
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, readings.Select(r => AmbientPayload.Encode(r)), window: 5, Ct, pauseEvery: 5);
        var rows = await WaitForRowsOnAsync(cluster, 2, db.Name, Count);

        // Terminated before it has seen every reading, a standby would leave the rest in its session: wait for both.
        (await MqttInsertOutput.WaitForOfferedAsync(a, Count, RowTimeout)).Should().BeGreaterThanOrEqualTo(Count, a.Describe());
        (await MqttInsertOutput.WaitForOfferedAsync(b, Count, RowTimeout)).Should().BeGreaterThanOrEqualTo(Count, b.Describe());
        var writersOnNode1 = await ConnectionsToAsync(cluster, 0, db.Name);
        var writersOnNode2 = await ConnectionsToAsync(cluster, 1, db.Name);
        a.Terminate();
        b.Terminate();
        var exitA = await a.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var exitB = await b.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var conflicts = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct) + await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct) - conflictsBefore;
        var stoppedA = MqttInsertOutput.Stopped(a);
        var stoppedB = MqttInsertOutput.Stopped(b);
        var conflictLines = a.Errors.Concat(b.Errors).Count(l => l.Contains("conflict with another writer", StringComparison.Ordinal));

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"two standby MqttInsert through two nodes: {Count} readings; A {stoppedA.Inserted} inserted + {stoppedA.Duplicates} duplicates, "
            + $"B {stoppedB.Inserted} inserted + {stoppedB.Duplicates} duplicates; {conflicts} certification conflict(s) on the nodes, "
            + $"{conflictLines} conflict line(s) in the logs; MqttInsert connections: {writersOnNode1} on node 1, {writersOnNode2} on node 2");
        rows.Should().Be(Count);
        foreach (var node in cluster.Nodes)
        {
            (await QueryOnAsync(cluster, node.Index, db.Name, "SELECT COUNT(DISTINCT timestamp) FROM `Ambient`")).Should().Be(Count, $"{node.Name} holds every reading once");
        }

        (await QueryOnAsync(cluster, 0, db.Name, "SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0, "a conflict is never a bad payload");
        exitA.Should().Be(0, a.Describe());
        exitB.Should().Be(0, b.Describe());
        (stoppedA.Inserted + stoppedB.Inserted).Should().Be(Count, "each reading is inserted by one of the two");
        (stoppedA.Duplicates + stoppedB.Duplicates).Should().Be(Count, "and skipped by the other");
        (stoppedA.Rejected + stoppedB.Rejected).Should().Be(0);
        writersOnNode1.Should().BeGreaterThan(0, "A writes through the first node of its connection string");
        writersOnNode2.Should().BeGreaterThan(0, "B writes through the first node of its own");
        conflicts.Should().BeGreaterThan(0, "two writers on the same keys through two nodes must have met at certification");
    }

    [Theory]
    [InlineData(1)]
    public async Task TwoMqttInsertOnOneSharedGroupThroughTwoNodes_EveryReadingStoredOnce(int retryAutocommit)
    {
        // The scale-out set-up of the README: a shared group whose members write through different Galera nodes. They
        // write different readings, but of one node, into the same 5-minute summary row: Galera certifies that row.
        broker.RequireAvailable();
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        var group = "g" + Guid.NewGuid().ToString("N")[..8];
        const int Count = 20_000;
        foreach (var node in cluster.Nodes)
        {
            // 1 is Galera's default; the members' sessions take it when they connect.
            await node.ExecuteAsRootAsync($"SET GLOBAL wsrep_retry_autocommit = {retryAutocommit}", Ct);
        }

        await using var a = await MqttInsertRun.StartReadyAsync(
            broker.Host, broker.Port, topic, "member-a-" + group, cluster.ConnectionString(db.Name, 0, 1, 2), $"--Mqtt:SharedGroup={group}");
        await using var b = await MqttInsertRun.StartReadyAsync(
            broker.Host, broker.Port, topic, "member-b-" + group, cluster.ConnectionString(db.Name, 1, 2, 0), $"--Mqtt:SharedGroup={group}");
        var conflictsBefore = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct) + await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct);

        // A steady stream, so that both members commit small batches at the same moments (a burst makes few conflicts).
        await Load.PublishFastAsync(broker.Host, broker.Port, topic, Load.Readings(Count).Select(r => AmbientPayload.Encode(r)), window: 20, Ct, pauseEvery: 20);
        (await MqttInsertOutput.WaitForOfferedAsync(a, 1, RowTimeout)).Should().BeGreaterThan(0);
        var offered = 0L;
        var clock = Stopwatch.StartNew();
        while ((offered = MqttInsertOutput.Offered(a) + MqttInsertOutput.Offered(b)) < Count && clock.Elapsed < RowTimeout)
        {
            await Task.Delay(100, Ct);
        }

        a.Terminate();
        b.Terminate();
        (await a.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, a.Describe());
        (await b.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, b.Describe());
        var rows = await QueryOnAsync(cluster, 2, db.Name, "SELECT COUNT(*) FROM `Ambient`");
        var conflicts = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct) + await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct) - conflictsBefore;
        var stoppedA = MqttInsertOutput.Stopped(a);
        var stoppedB = MqttInsertOutput.Stopped(b);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"two MqttInsert on one shared group through two nodes, wsrep_retry_autocommit={retryAutocommit}: {Count} readings published, {offered} written by the members, {rows} in the table; "
            + $"A {stoppedA.Inserted} inserted, B {stoppedB.Inserted} inserted; {conflicts} certification conflict(s) on the nodes");

        foreach (var node in cluster.Nodes)
        {
            await node.ExecuteAsRootAsync("SET GLOBAL wsrep_retry_autocommit = 1", Ct);
        }

        rows.Should().Be(Count, "every reading a member acknowledged must be in the table");
        (stoppedA.Inserted + stoppedB.Inserted).Should().Be(Count);
    }

    /// <summary>The connections of programs other than this test process to <paramref name="database"/> on one node (each node
    /// lists only its own connections).</summary>
    private static async Task<long> ConnectionsToAsync(PrivateGalera cluster, int node, string database)
    {
        await using var connection = new MySqlConnection(cluster.ConnectionString(node));
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()", connection);
        command.Parameters.AddWithValue("@db", database);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    private static async Task<long> QueryOnAsync(PrivateGalera cluster, int node, string database, string sql)
    {
        // wsrep_sync_wait: the read waits until the node has applied every writeset committed anywhere before it.
        await using var connection = new MySqlConnection(cluster.ConnectionString(database, node));
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SET SESSION wsrep_sync_wait = 1; " + sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    /// <summary>Samples a node's row count every 50 ms for <paramref name="window"/> (or until it reaches
    /// <paramref name="count"/>) and returns the longest time it did not grow.</summary>
    private static async Task<TimeSpan> LongestStallAsync(PrivateGalera cluster, int node, string database, long count, TimeSpan window)
    {
        var clock = Stopwatch.StartNew();
        var last = -1L;
        var since = TimeSpan.Zero;
        var longest = TimeSpan.Zero;
        while (clock.Elapsed < window)
        {
            var rows = await QueryOnAsync(cluster, node, database, "SELECT COUNT(*) FROM `Ambient`");
            if (rows != last)
            {
                last = rows;
                since = clock.Elapsed;
            }

            longest = clock.Elapsed - since > longest ? clock.Elapsed - since : longest;
            if (rows >= count)
            {
                break;
            }

            await Task.Delay(50, Ct);
        }

        return longest;
    }

    /// <summary>Waits until a node's table holds at least <paramref name="count"/> rows, then a little longer to catch
    /// extras; returns the count.</summary>
    private static async Task<long> WaitForRowsOnAsync(PrivateGalera cluster, int node, string database, long count)
    {
        var clock = Stopwatch.StartNew();
        long rows = 0;
        while (clock.Elapsed < RowTimeout)
        {
            try
            {
                rows = await QueryOnAsync(cluster, node, database, "SELECT COUNT(*) FROM `Ambient`");
            }
            catch (MySqlException)
            {
                // The table is not there yet.
            }

            if (rows >= count)
            {
                await Task.Delay(500, Ct);
                return await QueryOnAsync(cluster, node, database, "SELECT COUNT(*) FROM `Ambient`");
            }

            await Task.Delay(50, Ct);
        }

        return rows;
    }
}
