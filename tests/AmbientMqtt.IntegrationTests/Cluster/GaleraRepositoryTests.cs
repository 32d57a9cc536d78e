using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Cluster;

/// <summary>
/// <see cref="MariaDbAmbientRepository"/> against a three-node Galera cluster: a connection string naming the three nodes
/// (<c>LoadBalance=FailOver</c>) through the kill of the node it writes through, two writers on two nodes offering the
/// same readings (Galera's certification conflict at commit, error 1213), and a node that has left the primary component.
/// Each write is retried the way <c>IngestPipeline</c> retries it: the same batch again after a transient failure.
/// </summary>
[Collection(GaleraCollection.Name)]
public sealed class GaleraRepositoryTests(GaleraFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cluster_ThreeNodesOnOwnAddressesAndOnePort_ReplicateWhatOneNodeCommits()
    {
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        var repository = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions());
        await repository.EnsureSchemaAsync(Ct);

        (await repository.WriteBatchAsync(Batch(0, 10), [], Ct)).Inserted.Should().Be(10);

        cluster.Nodes.Select(n => n.Address).Should().OnlyHaveUniqueItems();
        foreach (var node in cluster.Nodes)
        {
            var status = await node.StatusAsync(Ct, "wsrep_cluster_size", "wsrep_local_state_comment");
            status["wsrep_cluster_size"].Should().Be("3");
            status["wsrep_local_state_comment"].Should().Be("Synced");
            (await CountOnNodeAsync(cluster, node.Index, db.Name)).Should().Be(10, $"{node.Name} holds what the first node committed");
        }

        // The anonymous accounts mariadb-install-db may create would shadow the test user.
        await using var connection = new MySqlConnection(cluster.ConnectionString(2));
        await connection.OpenAsync(Ct);
        await using var anonymous = new MySqlCommand("SELECT COUNT(*) FROM mysql.user WHERE User = ''", connection);
        Convert.ToInt64(await anonymous.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture).Should().Be(0);
    }

    [Fact]
    public async Task WriteBatchAsync_NodeItWritesThroughKilledMidStream_EveryReadingStoredExactlyOnce()
    {
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        var logger = new CapturingLogger<MariaDbAmbientRepository>();
        var repository = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions(), logger);
        await repository.EnsureSchemaAsync(Ct);
        const int Batches = 150;
        const int BatchSize = 40;
        var commitsBefore = await cluster.Nodes[0].StatusNumberAsync("wsrep_local_commits", Ct);

        var writer = new RetryingWriter(repository);
        Task? restart = null;
        var killedAt = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        for (var b = 0; b < Batches; b++)
        {
            if (b == Batches / 3)
            {
                // The node every connection of the FailOver string goes to while it lives.
                (await cluster.Nodes[0].StatusNumberAsync("wsrep_local_commits", Ct)).Should().BeGreaterThan(commitsBefore, "the writes went through node 1");
                await cluster.KillAsync(0);
                killedAt = clock.Elapsed;
                restart = Task.Run(
                    async () =>
                    {
                        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
                        await cluster.RestartAsync(0, Ct);
                    },
                    Ct);
            }

            await writer.WriteAsync(Batch(b * BatchSize, BatchSize));
            await Task.Delay(10, Ct);
        }

        await restart!;
        var total = Batches * BatchSize;

        writer.Inserted.Should().Be(total);
        writer.Rejected.Should().Be(0);
        foreach (var node in cluster.Nodes)
        {
            (await CountOnNodeAsync(cluster, node.Index, db.Name)).Should().Be(total, $"{node.Name} holds every reading once");
            (await DistinctOnNodeAsync(cluster, node.Index, db.Name)).Should().Be(total);
        }

        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0);
        Report($"failover: {total} readings in {Batches} batches, node 1 killed at {killedAt.TotalSeconds:0.0} s and restarted 2 s later; "
            + $"{writer.TransientFailures} transient failure(s) retried, {writer.Duplicates} duplicate(s) (a batch committed before the kill and offered again), "
            + $"longest batch {writer.Longest.TotalMilliseconds:0} ms, {logger.Entries.Count(e => e.EventId == 3004)} retry on a fresh connection");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    public async Task WriteBatchAsync_TwoWritersThroughTwoNodesOfferingTheSameReadings_EveryReadingOnceConflictsRetriedNeverRejected(int retryAutocommit, int secondWritersNode)
    {
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);

        // 1, the default: a single autocommit INSERT that fails certification is run again by the node itself. 0: every
        // conflict reaches the client as error 1213, as a conflict at the COMMIT of an explicit transaction always does.
        foreach (var node in cluster.Nodes)
        {
            await node.ExecuteAsRootAsync($"SET GLOBAL wsrep_retry_autocommit = {retryAutocommit}", Ct);
        }

        try
        {
            await TwoWritersAsync(cluster, db, secondWritersNode, expectDeadlocksAtTheClient: retryAutocommit == 0 && secondWritersNode != 0);
        }
        finally
        {
            foreach (var node in cluster.Nodes.Where(n => n.IsRunning))
            {
                await node.ExecuteAsRootAsync("SET GLOBAL wsrep_retry_autocommit = 1", Ct);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public async Task WriteBatchAsync_TwoWritersThroughTwoNodesWritingDifferentReadings_EveryReadingStoredOnceAndCountedOnce(int retryAutocommit)
    {
        // Two members of a shared group, writing through two nodes: different readings of one node, at the same moment,
        // in the same 5-minute summary.
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        foreach (var node in cluster.Nodes)
        {
            await node.ExecuteAsRootAsync($"SET GLOBAL wsrep_retry_autocommit = {retryAutocommit}", Ct);
        }

        var a = new MariaDbAmbientRepository(db.CreateDataSource(c => c.Server = cluster.Nodes[0].Address), new MariaDbRepositoryOptions());
        var b = new MariaDbAmbientRepository(db.CreateDataSource(c => c.Server = cluster.Nodes[1].Address), new MariaDbRepositoryOptions());
        const int Batches = 120;
        const int BatchSize = 20;
        var writerA = new RetryingWriter(a);
        var writerB = new RetryingWriter(b);
        var conflictsBefore = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct) + await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct);
        try
        {
            await a.EnsureSchemaAsync(Ct);
            await b.EnsureSchemaAsync(Ct);
            using var barrier = new Barrier(2);
            async Task RunAsync(RetryingWriter writer, int offset)
            {
                for (var i = 0; i < Batches; i++)
                {
                    // A takes the even readings, B the odd ones: nothing in common but the summary they fall into.
                    var batch = Batch(((2 * i) + offset) * BatchSize, BatchSize);
                    await Task.Run(() => barrier.SignalAndWait(Ct), Ct);
                    await writer.WriteAsync(batch);
                }
            }

            await Task.WhenAll(Task.Run(() => RunAsync(writerA, 0), Ct), Task.Run(() => RunAsync(writerB, 1), Ct));
        }
        finally
        {
            foreach (var node in cluster.Nodes.Where(n => n.IsRunning))
            {
                await node.ExecuteAsRootAsync("SET GLOBAL wsrep_retry_autocommit = 1", Ct);
            }
        }

        var total = 2 * Batches * BatchSize;
        var rows = await CountOnNodeAsync(cluster, 2, db.Name);
        var conflicts = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct) + await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct) - conflictsBefore;
        Report($"two writers, two nodes, different readings, wsrep_retry_autocommit={retryAutocommit}: {total} readings written, {rows} in the table; "
            + $"inserted {writerA.Inserted} + {writerB.Inserted}; {conflicts} certification conflict(s) on the nodes, {a.Conflicts + b.Conflicts} retried by the repositories");

        rows.Should().Be(total, "a batch the repository reported committed must be in the table");
        (await SummarisedOnNodeAsync(cluster, 2, db.Name)).Should().Be(total, "the 5-minute summaries count each stored reading once");
        (writerA.Inserted + writerB.Inserted).Should().Be(total);
        (writerA.Duplicates + writerB.Duplicates).Should().Be(0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public async Task Galera_OneRoundTripTransactionAbortedByAnotherNodesCommit_StatementsAfterTheAbortCommitOnTheirOwn(int retryAutocommit)
    {
        // Not AmbientMqtt's code: what a Galera node does with a transaction sent as one multi-statement query (the
        // write path's "START TRANSACTION; INSERT …; INSERT … ON DUPLICATE KEY UPDATE …; COMMIT;") when a writeset from
        // another node aborts it halfway (a brute-force abort). SLEEP widens the moment between two statements.
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        await db.ExecuteAsync("CREATE TABLE t (k INT PRIMARY KEY); CREATE TABLE s (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
        var results = new List<string>();
        foreach (var sleepFirst in new[] { true, false })
        {
            await db.ExecuteAsync("DELETE FROM t; DELETE FROM s");
            var sql = sleepFirst
                ? "START TRANSACTION; INSERT INTO t VALUES (1); DO SLEEP(2); INSERT INTO s (v) VALUES (42); COMMIT;"
                : "START TRANSACTION; INSERT INTO t VALUES (1); INSERT INTO s (v) VALUES (42); DO SLEEP(2); COMMIT;";
            await using var b = new MySqlConnection(cluster.ConnectionString(db.Name, 1));
            await b.OpenAsync(Ct);
            await using (var set = new MySqlCommand($"SET SESSION wsrep_retry_autocommit = {retryAutocommit}", b))
            {
                await set.ExecuteNonQueryAsync(Ct);
            }

            var batch = Task.Run(
                async () =>
                {
                    try
                    {
                        await using var command = new MySqlCommand(sql, b);
                        await command.ExecuteNonQueryAsync(Ct);
                        return "OK";
                    }
                    catch (MySqlException ex)
                    {
                        return ((int)ex.ErrorCode).ToString(CultureInfo.InvariantCulture);
                    }
                },
                Ct);
            await Task.Delay(500, Ct);
            await using (var a = new MySqlConnection(cluster.ConnectionString(db.Name, 0)))
            {
                await a.OpenAsync(Ct);
                await using var insert = new MySqlCommand("INSERT INTO t VALUES (1)", a);
                await insert.ExecuteNonQueryAsync(Ct);
            }

            var outcome = await batch;
            var s = await QueryOnAsync(cluster, 1, db.Name, "SELECT COUNT(*) FROM s");
            results.Add($"{(sleepFirst ? "aborted between the statements" : "aborted before COMMIT")}: {outcome}, {s} row(s) of the second statement stored");
        }

        Report($"wsrep_retry_autocommit={retryAutocommit}: " + string.Join("; ", results));

        // The batch's own first row is never stored (the other node's row holds the key); what follows the abort is.
        if (retryAutocommit == 1)
        {
            results.Should().Equal(
                "aborted between the statements: OK, 2 row(s) of the second statement stored",
                "aborted before COMMIT: OK, 0 row(s) of the second statement stored");
        }
        else
        {
            results.Should().Equal(
                "aborted between the statements: 1213, 1 row(s) of the second statement stored",
                "aborted before COMMIT: 1213, 0 row(s) of the second statement stored");
        }
    }

    [Fact]
    public async Task WriteBatchAsync_ConflictingCommitRetried_CountedInTheConflictsMetricAndNotLoggedAsAConnectionFailure()
    {
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        foreach (var node in cluster.Nodes)
        {
            await node.ExecuteAsRootAsync("SET GLOBAL wsrep_retry_autocommit = 0", Ct);
        }

        long conflicts = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AmbientMqtt" && instrument.Name == "ambientmqtt.storage.conflicts")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref conflicts, value));
        listener.Start();
        var loggerA = new CapturingLogger<MariaDbAmbientRepository>();
        var loggerB = new CapturingLogger<MariaDbAmbientRepository>();
        try
        {
            var a = new MariaDbAmbientRepository(db.CreateDataSource(c => c.Server = cluster.Nodes[0].Address), new MariaDbRepositoryOptions(), loggerA);
            var b = new MariaDbAmbientRepository(db.CreateDataSource(c => c.Server = cluster.Nodes[1].Address), new MariaDbRepositoryOptions(), loggerB);
            await a.EnsureSchemaAsync(Ct);
            await b.EnsureSchemaAsync(Ct);
            using var barrier = new Barrier(2);
            async Task RunAsync(MariaDbAmbientRepository repository)
            {
                var writer = new RetryingWriter(repository);
                for (var i = 0; i < 30; i++)
                {
                    await Task.Run(() => barrier.SignalAndWait(Ct), Ct);
                    await writer.WriteAsync(Batch(i * 20, 20));
                }
            }

            await Task.WhenAll(Task.Run(() => RunAsync(a), Ct), Task.Run(() => RunAsync(b), Ct));
        }
        finally
        {
            foreach (var node in cluster.Nodes.Where(n => n.IsRunning))
            {
                await node.ExecuteAsRootAsync("SET GLOBAL wsrep_retry_autocommit = 1", Ct);
            }
        }

        var entries = loggerA.Entries.Concat(loggerB.Entries).ToList();
        var retried = entries.Count(e => e.EventId == 3007);
        retried.Should().BeGreaterThan(0, "the two writers' commits met at certification");

        // What an operator watches: a conflict is the normal cost of two writers, not a broken connection.
        Interlocked.Read(ref conflicts).Should().Be(retried, "each conflict retried is counted (ambientmqtt.storage.conflicts)");
        entries.Should().NotContain(
            e => e.Level >= LogLevel.Warning && e.Message.Contains("Deadlock", StringComparison.Ordinal),
            "a certification conflict is not a connection failure, and with two standby writers it happens every few batches");
    }

    [Fact]
    public async Task WriteBatchAsync_NodeOutsideThePrimaryComponent_IsTransientAndAConnectionStringNamingTwoMoreNodesWritesThroughThem()
    {
        var cluster = await fixture.GetClusterAsync(Ct);
        await using var db = await GaleraFixture.CreateDatabaseAsync(cluster, Ct);
        var alone = new MariaDbAmbientRepository(db.CreateDataSource(c => c.Server = cluster.Nodes[0].Address), new MariaDbRepositoryOptions());
        var all = new MariaDbAmbientRepository(db.DataSource, new MariaDbRepositoryOptions());
        await alone.EnsureSchemaAsync(Ct);
        await all.EnsureSchemaAsync(Ct);
        (await alone.WriteBatchAsync(Batch(0, 5), [], Ct)).Inserted.Should().Be(5);

        // A network partition, without killing anything: the node stays up, takes connections, and refuses every write
        // with error 1047 ("WSREP has not yet prepared node for application use") until it is back in the primary
        // component. It answers TCP and the handshake, so MySqlConnector's FailOver (which moves on only when a host
        // cannot be connected to) keeps choosing it while the two nodes of the primary component stay unused.
        await IsolateAsync(cluster, 0, isolate: true);
        AmbientStorageException? refused = null;
        Exception? throughOthers = null;
        try
        {
            try
            {
                await alone.WriteBatchAsync(Batch(5, 5), [], Ct);
            }
            catch (AmbientStorageException ex)
            {
                refused = ex;
            }

            try
            {
                await new RetryingWriter(all, giveUpAfter: TimeSpan.FromSeconds(3)).WriteAsync(Batch(10, 5));
            }
            catch (Exception ex) when (ex is AmbientStorageException or MySqlException)
            {
                throughOthers = ex;
            }
        }
        finally
        {
            await IsolateAsync(cluster, 0, isolate: false);
        }

        using (new FluentAssertions.Execution.AssertionScope())
        {
            refused.Should().NotBeNull("a node outside the primary component cannot commit");
            refused?.IsTransient.Should().BeTrue(
                "a node outside the primary component is a state of the cluster that passes; treated as fatal, MqttInsert stops with exit code 1 ({0})",
                refused.Message);
            throughOthers.Should().BeNull("two of the three nodes the connection string names could take the batch all along");
        }

        (await alone.WriteBatchAsync(Batch(5, 5), [], Ct)).Inserted.Should().Be(5, "the node is back");
        (await CountOnNodeAsync(cluster, 1, db.Name)).Should().Be(15);
    }

    /// <summary>Two writers offering the same batches at the same moment, the first through node 1, the second through
    /// <paramref name="secondWritersNode"/>: node 2 (certification conflicts) or node 1 too (the second waits for the
    /// first's row locks, and Galera has nothing to certify against).</summary>
    private static async Task TwoWritersAsync(PrivateGalera cluster, TestDatabase db, int secondWritersNode, bool expectDeadlocksAtTheClient)
    {
        var loggerA = new CapturingLogger<MariaDbAmbientRepository>();
        var loggerB = new CapturingLogger<MariaDbAmbientRepository>();
        var a = new MariaDbAmbientRepository(db.CreateDataSource(c => c.Server = cluster.Nodes[0].Address), new MariaDbRepositoryOptions(), loggerA);
        var b = new MariaDbAmbientRepository(db.CreateDataSource(c => c.Server = cluster.Nodes[secondWritersNode].Address), new MariaDbRepositoryOptions(), loggerB);
        await a.EnsureSchemaAsync(Ct);
        await b.EnsureSchemaAsync(Ct);
        const int Batches = 100;
        const int BatchSize = 50;
        var certFailuresBefore = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct);
        var bfAbortsBefore = await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct);

        // Both standby writers get every batch at the same moment, as two MqttInsert on the same filter do.
        using var barrier = new Barrier(2);
        var writerA = new RetryingWriter(a);
        var writerB = new RetryingWriter(b);
        async Task RunAsync(RetryingWriter writer)
        {
            for (var i = 0; i < Batches; i++)
            {
                var batch = Batch(i * BatchSize, BatchSize);
                await Task.Run(() => barrier.SignalAndWait(Ct), Ct);
                await writer.WriteAsync(batch);
            }
        }

        await Task.WhenAll(Task.Run(() => RunAsync(writerA), Ct), Task.Run(() => RunAsync(writerB), Ct));
        var total = Batches * BatchSize;
        var certFailures = await cluster.SumStatusAsync("wsrep_local_cert_failures", Ct) - certFailuresBefore;
        var bfAborts = await cluster.SumStatusAsync("wsrep_local_bf_aborts", Ct) - bfAbortsBefore;
        var deadlocks = a.Conflicts + b.Conflicts;
        Report($"two writers through {(secondWritersNode == 0 ? "one node" : "two nodes")}: {total} readings each offered twice; "
            + $"{certFailures} certification failure(s) and {bfAborts} brute-force abort(s) on the nodes, "
            + $"{deadlocks} conflict(s) (error 1213) at the client retried by the repository, {writerA.TransientFailures + writerB.TransientFailures} left to the caller's retry; "
            + $"inserted {writerA.Inserted} + {writerB.Inserted}, duplicates {writerA.Duplicates} + {writerB.Duplicates}; "
            + $"longest batch {Math.Max(writerA.Longest.TotalMilliseconds, writerB.Longest.TotalMilliseconds):0} ms");

        foreach (var node in cluster.Nodes)
        {
            (await CountOnNodeAsync(cluster, node.Index, db.Name)).Should().Be(total, $"{node.Name} holds every reading once");
        }

        (writerA.Rejected + writerB.Rejected).Should().Be(0, "a conflict is never a bad reading");
        (await db.ScalarAsync("SELECT COUNT(*) FROM `Ambient_rejected`")).Should().Be(0);
        (await SummarisedOnNodeAsync(cluster, 2, db.Name)).Should().Be(total, "the 5-minute summaries count each stored reading once");
        (writerA.Inserted + writerB.Inserted).Should().Be(total, "each reading is inserted by exactly one of the two");
        (writerA.Duplicates + writerB.Duplicates).Should().Be(total, "and found already stored by the other");

        if (secondWritersNode == 0)
        {
            (certFailures + bfAborts).Should().Be(0, "on one node the second writer waits for the first's row locks: nothing for Galera to refuse");
        }
        else
        {
            (certFailures + bfAborts).Should().BeGreaterThan(0, "the two writers met on the same keys through two nodes, so Galera must have refused some commits");
        }

        if (expectDeadlocksAtTheClient)
        {
            deadlocks.Should().BeGreaterThan(0, "a refused commit reaches the client as error 1213, and is retried");
            loggerA.Entries.Concat(loggerB.Entries).Count(e => e.EventId == 3007).Should().Be((int)deadlocks, "each conflict retried is logged once");
        }
    }

    private static async Task IsolateAsync(PrivateGalera cluster, int node, bool isolate)
    {
        await cluster.Nodes[node].ExecuteAsRootAsync($"SET GLOBAL wsrep_provider_options = 'gmcast.isolate={(isolate ? 1 : 0)}'", Ct);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = await cluster.Nodes[node].StatusAsync(Ct, "wsrep_cluster_status", "wsrep_ready");
            if (isolate ? status["wsrep_cluster_status"] != "Primary" : status["wsrep_ready"] == "ON")
            {
                break;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"{cluster.Nodes[node].Name} did not {(isolate ? "leave" : "rejoin")} the primary component: {string.Join(", ", status)}");
            }

            await Task.Delay(100, Ct);
        }

        if (!isolate)
        {
            await cluster.WaitUntilSyncedAsync(Ct);
        }
    }

    private static List<AmbientReading> Batch(int first, int count)
    {
        var start = Instant.FromUtc(2024, 10, 9, 6, 0);
        return [.. Enumerable.Range(first, count).Select(i => new AmbientReading(start + Duration.FromMilliseconds(i * 100L), 20 + (i % 100) / 10.0, 50, 1000))];
    }

    private static async Task<long> CountOnNodeAsync(PrivateGalera cluster, int node, string database)
    {
        // wsrep_sync_wait: the read waits until the node has applied every writeset committed anywhere before it.
        await using var connection = new MySqlConnection(cluster.ConnectionString(database, node));
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM `Ambient`", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    private static async Task<long> QueryOnAsync(PrivateGalera cluster, int node, string database, string sql)
    {
        await using var connection = new MySqlConnection(cluster.ConnectionString(database, node));
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SET SESSION wsrep_sync_wait = 1; " + sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    private static async Task<long> SummarisedOnNodeAsync(PrivateGalera cluster, int node, string database)
    {
        await using var connection = new MySqlConnection(cluster.ConnectionString(database, node));
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SET SESSION wsrep_sync_wait = 1; SELECT COALESCE(SUM(readings), 0) FROM `Ambient_5m`", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    private static async Task<long> DistinctOnNodeAsync(PrivateGalera cluster, int node, string database)
    {
        await using var connection = new MySqlConnection(cluster.ConnectionString(database, node));
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SET SESSION wsrep_sync_wait = 1; SELECT COUNT(DISTINCT identifier, timestamp) FROM `Ambient`", connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
    }

    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    /// <summary>Writes a batch as <c>IngestPipeline</c> does: after a transient failure, the same batch again after a
    /// short pause; a failure that is not transient fails the test. Keeps the counts the batches came back with.</summary>
    private sealed class RetryingWriter(MariaDbAmbientRepository repository, TimeSpan? giveUpAfter = null)
    {
        private readonly TimeSpan _giveUpAfter = giveUpAfter ?? TimeSpan.FromSeconds(90);

        public int Inserted { get; private set; }

        public int Duplicates { get; private set; }

        public int Rejected { get; private set; }

        public int TransientFailures { get; private set; }

        public TimeSpan Longest { get; private set; }

        public async Task WriteAsync(IReadOnlyList<AmbientReading> batch, IReadOnlyList<RejectedPayload>? rejected = null)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    var result = await repository.WriteBatchAsync(batch, rejected ?? [], Ct);
                    Inserted += result.Inserted;
                    Duplicates += result.Duplicates;
                    Rejected += result.Rejected;
                    Longest = clock.Elapsed > Longest ? clock.Elapsed : Longest;
                    return;
                }
                catch (AmbientStorageException ex) when (ex.IsTransient && clock.Elapsed < _giveUpAfter)
                {
                    TransientFailures++;
                    await Task.Delay(100, Ct);
                }
            }
        }
    }
}
