using System.Diagnostics;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>Starts MqttInsert against a broker and a test database, and checks what reached the table.</summary>
internal static class MqttInsertRun
{
    public static SampleProcess Start(string host, int port, string topic, string clientId, string connectionString, params string[] extra)
        => SampleProcess.Start("MqttInsert", [
            $"--Mqtt:Host={host}", $"--Mqtt:Port={port}", $"--Mqtt:Topic={topic}", $"--Mqtt:ClientId={clientId}",
            $"--Database:ConnectionString={connectionString}", .. extra]);

    public static async Task<SampleProcess> StartReadyAsync(string host, int port, string topic, string clientId, string connectionString, params string[] extra)
    {
        var process = Start(host, port, topic, clientId, connectionString, extra);
        await process.WaitForOutputAsync(l => l == "waiting for mqtt message", TimeSpan.FromSeconds(60));
        return process;
    }

    /// <summary>Waits until the table holds at least <paramref name="count"/> rows, then a little longer to catch extras.</summary>
    public static async Task<long> WaitForRowsAsync(TestDatabase database, long count, TimeSpan timeout, string table = "Ambient")
    {
        var clock = Stopwatch.StartNew();
        long rows = 0;
        while (clock.Elapsed < timeout)
        {
            try
            {
                rows = await database.ScalarAsync($"SELECT COUNT(*) FROM `{table}`");
            }
            catch (MySqlConnector.MySqlException)
            {
                // Table not created yet, or server restarting.
            }

            if (rows >= count)
            {
                await Task.Delay(500);
                return await database.ScalarAsync($"SELECT COUNT(*) FROM `{table}`");
            }

            await Task.Delay(200);
        }

        return rows;
    }

    public static async Task<HashSet<DateTime>> TimestampsAsync(TestDatabase database, string table = "Ambient")
        => (await database.QueryAsync($"SELECT timestamp FROM `{table}`")).Select(r => (DateTime)r[0]).ToHashSet();
}
