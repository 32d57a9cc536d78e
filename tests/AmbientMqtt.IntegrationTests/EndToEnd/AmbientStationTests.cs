using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Storage;
using Microsoft.Data.Sqlite;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.EndToEnd;

/// <summary>
/// AmbientStation as a newcomer runs it: one process, simulated sensor → embedded broker → SQLite file, stopped with
/// SIGTERM; then the rows in the file, against the readings it printed.
/// </summary>
public sealed partial class AmbientStationTests(MqttServer mosquitto, MariaDbFixture mariaDb) : IDisposable
{
    private const string Published = "publish するデータ:  ";
    private static readonly DateTimeZone Tokyo = DateTimeZoneProviders.Tzdb["Asia/Tokyo"];

    private readonly string _directory = Directory.CreateTempSubdirectory("ambient-station-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sigterm_AfterThreeSeconds_ExitsZeroWithOneRowPerPublishedReading()
    {
        var database = Path.Combine(_directory, "station.db");
        await using var station = SampleProcess.Start("AmbientStation", ["--Publish:Interval=00:00:00.200", $"--Database:Path={database}"]);
        await station.WaitForOutputAsync(l => l.StartsWith(Published, StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        station.Terminate();
        var exitCode = await station.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(0, station.Describe());
        var published = PublishedReadings(station);
        published.Should().HaveCountGreaterThanOrEqualTo(10, station.Describe());
        var rows = await RowsAsync(database);
        rows.Should().Equal(published.Select(ExpectedRow), station.Describe());

        station.Output.Should().ContainInOrder(
            $"SQLite database:  {database}",
            $"see the rows:  sqlite3 '{database}' \"SELECT * FROM Ambient ORDER BY timestamp DESC LIMIT 10\"",
            "db server connected",
            "mqtt server connected",
            "waiting for mqtt message");
        station.Output.Should().Contain(l => EmbeddedBrokerLine().IsMatch(l));
        station.CountOutput(l => l.StartsWith("●NEW_DATA:  {'timestamp': ", StringComparison.Ordinal)).Should().Be(published.Count);
        station.CountOutput(l => l == " クエリを実行しました。(1 row affected.)").Should().Be(published.Count);
        station.Output.Should().Contain(
            $"stopped: {published.Count} reading(s) published, {published.Count} row(s) inserted, 0 duplicate(s) skipped, 0 payload(s) rejected");
        station.Errors.Should().NotContain(l => l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal), station.Describe());
    }

    [Fact]
    public async Task SecondStationWhileFirstRuns_BothRunOnTheirOwnFreePortAndShareTheFile()
    {
        var database = Path.Combine(_directory, "shared.db");
        string[] arguments = ["--Publish:Interval=00:00:00.200", $"--Database:Path={database}"];
        await using var first = SampleProcess.Start("AmbientStation", arguments);
        await first.WaitForOutputAsync(l => l.StartsWith(Published, StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await using var second = SampleProcess.Start("AmbientStation", arguments);
        await second.WaitForOutputAsync(l => l.StartsWith(Published, StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        first.Terminate();
        second.Terminate();
        var exitCodes = new[] { await first.WaitForExitAsync(TimeSpan.FromSeconds(30)), await second.WaitForExitAsync(TimeSpan.FromSeconds(30)) };

        exitCodes.Should().Equal([0, 0], first.Describe() + Environment.NewLine + second.Describe());
        var ports = new[] { first, second }.Select(s => EmbeddedBrokerLine().Match(s.Output.First(l => EmbeddedBrokerLine().IsMatch(l))).Groups[1].Value).ToList();
        ports[0].Should().NotBe(ports[1]);
        var published = PublishedReadings(first).Concat(PublishedReadings(second)).ToList();
        PublishedReadings(second).Should().HaveCountGreaterThanOrEqualTo(5);
        var rows = await RowsAsync(database);
        rows.Should().BeEquivalentTo(published.Select(ExpectedRow));
    }

    [Fact]
    public async Task ConfiguredPortInUse_ExitsOneWithALineNamingThePortAndTouchesNoDatabase()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        var database = Path.Combine(_directory, "never.db");
        await using var station = SampleProcess.Start("AmbientStation", [$"--Mqtt:Port={port}", $"--Database:Path={database}"]);

        var exitCode = await station.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().Be(1, station.Describe());
        station.Errors.Should().ContainSingle(l => l.StartsWith("error:", StringComparison.Ordinal), station.Describe())
            .Which.Should().Be($"error: port {port} is in use (is mosquitto running?); choose another with --Mqtt:Port=… or 0 for a free one");
        station.Output.Should().NotContain(l => l.StartsWith(Published, StringComparison.Ordinal));
        File.Exists(database).Should().BeFalse();
    }

    [Theory]
    [InlineData("--Database:Provider=Postgres", "configuration error: Database:Provider: must be 'Sqlite' or 'MariaDb' (got 'Postgres')")]
    [InlineData("--Mqtt:Embedded=yes", "configuration error: Mqtt:Embedded: must be true or false (got 'yes')")]
    [InlineData("--Mqtt:Embedded=true --Mqtt:Host=mqtt.example.com", "configuration error: Mqtt:Host: the embedded broker listens on 127.0.0.1 only; leave Mqtt:Host out, or set Mqtt:Embedded=false to use the broker at mqtt.example.com")]
    [InlineData("--Mqtt:Connections=4", "configuration error: Mqtt:Connections: the embedded broker has no shared subscriptions; keep Mqtt:Connections=1 and no Mqtt:SharedGroup, or use mosquitto (Mqtt:Embedded=false)")]
    [InlineData("--Mqtt:Port=70000", "configuration error: Mqtt:Port: must be between 0 (a free port) and 65535 (got 70000)")]
    public async Task BadSetting_ExitsTwoWithOneLineNamingTheKey(string arguments, string line)
    {
        var database = Path.Combine(_directory, "never.db");
        await using var station = SampleProcess.Start("AmbientStation", [.. arguments.Split(' '), $"--Database:Path={database}"]);

        var exitCode = await station.WaitForExitAsync(TimeSpan.FromSeconds(60));

        exitCode.Should().Be(2, station.Describe());
        station.Errors.Should().Equal([line], station.Describe());
        File.Exists(database).Should().BeFalse();
    }

    [Fact]
    public async Task MosquittoAndMariaDb_SameProgramStoresEveryReadingThere()
    {
        mosquitto.RequireAvailable();
        await using var database = await mariaDb.CreateDatabaseAsync(Ct);
        var topic = $"test/{Guid.NewGuid():N}/bme";
        await using var station = SampleProcess.Start("AmbientStation", [
            "--Publish:Interval=00:00:00.200",
            $"--Mqtt:Host={mosquitto.Host}", $"--Mqtt:Port={mosquitto.Port}", $"--Mqtt:Topic={topic}", $"--Mqtt:ClientId=station-{Guid.NewGuid():N}",
            "--Database:Provider=MariaDb", $"--Database:ConnectionString={database.ConnectionString}"]);
        await station.WaitForOutputAsync(l => l.StartsWith(Published, StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        station.Terminate();
        var exitCode = await station.WaitForExitAsync(TimeSpan.FromSeconds(30));

        exitCode.Should().Be(0, station.Describe());
        station.Output.Should().Contain($"MQTT broker:  {mosquitto.Host}:{mosquitto.Port}").And.NotContain(l => EmbeddedBrokerLine().IsMatch(l));
        station.Output.Should().Contain(l => l.StartsWith("MariaDB:  ", StringComparison.Ordinal) && l.EndsWith($"/{database.Name}, table Ambient", StringComparison.Ordinal));
        var published = PublishedReadings(station);
        var rows = (await database.QueryAsync("SELECT DATE_FORMAT(timestamp, '%Y-%m-%d %H:%i:%s.%f'), identifier, temperature, humidity, pressure FROM Ambient ORDER BY timestamp"))
            .Select(r => string.Join(" | ", r.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))))
            .ToList();
        rows.Should().Equal(published.Select(ExpectedRow), station.Describe());
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static List<AmbientReading> PublishedReadings(SampleProcess station) =>
        station.Output.Where(l => l.StartsWith(Published, StringComparison.Ordinal))
            .Select(l => AmbientPayload.Decode(Encoding.UTF8.GetBytes(l[Published.Length..])))
            .ToList();

    /// <summary>The row the tutorial's subscriber would have stored: Tokyo wall-clock time, values rounded by Python.</summary>
    private static string ExpectedRow(AmbientReading reading) => string.Join(
        " | ",
        reading.Timestamp.InZone(Tokyo).LocalDateTime.ToString("uuuu'-'MM'-'dd' 'HH':'mm':'ss'.'ffffff", CultureInfo.InvariantCulture),
        "tochigi_iot_899",
        Convert.ToString(PythonRound.Round2(reading.Temperature), CultureInfo.InvariantCulture),
        Convert.ToString(PythonRound.Round2(reading.Humidity), CultureInfo.InvariantCulture),
        Convert.ToString(PythonRound.Round2(reading.Pressure), CultureInfo.InvariantCulture));

    private static async Task<List<string>> RowsAsync(string database)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT timestamp, identifier, temperature, humidity, pressure FROM Ambient ORDER BY timestamp";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(string.Join(" | ", Enumerable.Range(0, 5).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    [GeneratedRegex(@"^MQTT broker:  embedded, 127\.0\.0\.1:(\d+) ")]
    private static partial Regex EmbeddedBrokerLine();
}
