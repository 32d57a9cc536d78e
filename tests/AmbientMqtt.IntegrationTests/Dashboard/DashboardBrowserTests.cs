using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;
using MQTTnet;
using MQTTnet.Protocol;
using NodaTime;
using AmbientMqtt.Dashboard;

namespace AmbientMqtt.IntegrationTests.Dashboard;

/// <summary>
/// The page as a person sees it: a running AmbientStation (its own process, its embedded broker, a SQLite file, the
/// dashboard on a free port), a real headless Chromium opening the page, PNG screenshots decoded and looked at.
/// </summary>
public sealed partial class DashboardBrowserTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ambient-browser-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AmbientStation_PageInChromium_DrawsEveryPanelNamesTheNodesAndShowsNewReadingsWithoutAReload()
    {
        RequireChromium();
        await using var station = SampleProcess.Start("AmbientStation", [
            "--Publish:Interval=00:00:00.500", $"--Database:Path={Path.Combine(_directory, "station.db")}", "--Dashboard:Urls=http://127.0.0.1:0"]);
        var url = DashboardLine().Match(await station.WaitForOutputAsync(l => DashboardLine().IsMatch(l), TimeSpan.FromSeconds(60))).Groups[1].Value;
        // The broker's line comes once the broker listens, after the dashboard's.
        var port = int.Parse(BrokerLine().Match(await station.WaitForOutputAsync(l => BrokerLine().IsMatch(l), TimeSpan.FromSeconds(60))).Groups[1].Value, CultureInfo.InvariantCulture);
        await station.WaitForOutputAsync(l => l.StartsWith("●NEW_DATA:", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        // More nodes, through the station's own broker, subscriber and pipeline: one with six hours of history before
        // the page opens, one the page has never seen while it stays open.
        using var mqtt = new MqttClientFactory().CreateMqttClient();
        await mqtt.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("browser-test-" + Guid.NewGuid().ToString("N")[..8]).Build(), Ct);
        var now = DateTimeOffset.UtcNow;
        await CheckPageAsync(
            url,
            async () =>
            {
                await PublishAsync(mqtt, "greenhouse", Enumerable.Range(0, 72).Select(i => now.AddMinutes(-360 + (i * 5))), 12);
                await WaitForNodesAsync(url, 2);
            },
            () => PublishAsync(mqtt, "cellar", Enumerable.Range(0, 40).Select(i => now.AddMinutes(-200 + (i * 5))), 4),
            ["greenhouse", "tochigi_iot_899"]);

        station.Terminate();
        (await station.WaitForExitAsync(TimeSpan.FromSeconds(30))).Should().Be(0, station.Describe());
    }

    [Fact]
    public async Task DashboardServer_PageInChromium_DrawsEveryPanelAndShowsPublishedReadingsWithoutAReload()
    {
        RequireChromium();
        await using var store = new SqliteReadSideStore();
        await store.CreateTablesAsync();
        var now = SystemClock.Instance.GetCurrentInstant();
        await store.InsertAsync(ReadSideStore.Generate(now - Duration.FromHours(6), Duration.FromHours(6), Duration.FromMinutes(2), ["balcony", "greenhouse"]), "Asia/Tokyo");
        await using var server = await DashboardServer.StartAsync(store.CreateReader("Asia/Tokyo"), new DashboardOptions { Urls = "http://127.0.0.1:0" }, cancellationToken: Ct);

        await CheckPageAsync(
            server.Url,
            () => Task.CompletedTask,
            async () =>
            {
                // What an ingest pipeline does: the rows committed, then handed to the live clients.
                var rows = ReadSideStore.Generate(now - Duration.FromMinutes(200), Duration.FromMinutes(200), Duration.FromMinutes(5), ["cellar"]);
                await store.InsertAsync(rows, "Asia/Tokyo");
                foreach (var row in rows)
                {
                    server.Feed.Publish(new StoredReading(row.Utc.InZone(DateTimeZoneProviders.Tzdb["Asia/Tokyo"]).ToDateTimeOffset(), row.Identifier, row.Temperature, row.Humidity, row.Pressure));
                }
            },
            ["balcony", "greenhouse"]);
    }

    /// <summary>Opens the page, checks the first screenshot, adds a node while it stays open, checks the second.</summary>
    private static async Task CheckPageAsync(string url, Func<Task> history, Func<Task> live, string[] nodes)
    {
        await history();
        await using var chromium = await HeadlessChromium.StartAsync(1100, 1300, Ct);
        await chromium.NavigateAsync(url + "/", Ct);
        await chromium.WaitForAsync($"window.ambientDashboard && ambientDashboard.ready && ambientDashboard.nodes().length === {nodes.Length}", TimeSpan.FromSeconds(30), Ct);
        await Task.Delay(500, Ct);
        var firstPng = await chromium.ScreenshotAsync(Ct);
        var first = PngImage.Decode(firstPng);
        var colors = await ColorsAsync(chromium);
        var panels = await PanelsAsync(chromium);
        Save("dashboard-1.png", firstPng);

        panels.Select(p => p.Name).Should().Equal("temperature", "humidity", "pressure");
        foreach (var panel in panels)
        {
            first.DistinctColors(panel.Left, panel.Top, panel.Width, panel.Height).Should().BeGreaterThan(20, $"the {panel.Name} panel has axes, grid and lines drawn");
            foreach (var node in nodes.Where(n => n != "tochigi_iot_899"))
            {
                first.Count(panel.Left, panel.Top, panel.Width, panel.Height, colors[node], 40).Should().BeGreaterThan(50, $"{node}'s line is drawn in the {panel.Name} panel");
            }
        }

        (await LegendAsync(chromium)).Should().Equal(nodes);

        await chromium.EvaluateAsync("window.noReload = 42", Ct);
        var seen = (await chromium.EvaluateAsync("ambientDashboard.liveReadings", Ct)).GetInt32();
        await live();
        await chromium.WaitForAsync("ambientDashboard.nodes().includes('cellar')", TimeSpan.FromSeconds(30), Ct);
        await Task.Delay(800, Ct);
        var secondPng = await chromium.ScreenshotAsync(Ct);
        var second = PngImage.Decode(secondPng);
        colors = await ColorsAsync(chromium);
        panels = await PanelsAsync(chromium);
        Save("dashboard-2.png", secondPng);

        (await chromium.EvaluateAsync("window.noReload === 42 && performance.getEntriesByType('navigation').length === 1 && ambientDashboard.loads === 1", Ct)).GetBoolean()
            .Should().BeTrue("the readings arrived without a reload");
        (await chromium.EvaluateAsync("ambientDashboard.liveReadings", Ct)).GetInt32().Should().BeGreaterThanOrEqualTo(seen + 40);
        (await LegendAsync(chromium)).Should().Equal(nodes.Append("cellar").Order(StringComparer.Ordinal));
        foreach (var panel in panels)
        {
            first.Count(panel.Left, panel.Top, panel.Width, panel.Height, colors["cellar"], 40).Should().BeLessThan(10, $"cellar was not in the first {panel.Name} panel");
            second.Count(panel.Left, panel.Top, panel.Width, panel.Height, colors["cellar"], 40).Should().BeGreaterThan(30, $"cellar's new line is drawn in the {panel.Name} panel");
        }
    }

    private static void RequireChromium()
    {
        if (HeadlessChromium.Binary is null)
        {
            ServerEnvironment.SkipOrFail("This test opens the dashboard in a real browser, which needs headless Chromium (Debian package chromium); none was found at /usr/bin/chromium or in PATH.");
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static async Task PublishAsync(IMqttClient mqtt, string node, IEnumerable<DateTimeOffset> times, double temperature)
    {
        // Smooth curves with a little noise, as a room's air goes: the screenshot is the README's picture.
        var random = new Random(node.Length);
        var i = 0;
        foreach (var time in times)
        {
            var wave = Math.Sin(i++ / 9.0);
            var payload = string.Create(CultureInfo.InvariantCulture, $$"""{"timestamp": "{{time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.ffffff}}+00:00", "temperature": {{temperature + (3 * wave) + (random.NextDouble() * 0.4)}}, "humidity": {{55 - (12 * wave) + (random.NextDouble() * 1.5)}}, "pressure": {{1008 + (2 * Math.Sin(i / 25.0)) + (random.NextDouble() * 0.2)}}, "identifier": "{{node}}"}""");
            await mqtt.PublishAsync(new MqttApplicationMessageBuilder().WithTopic("raspi/bme").WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), Ct);
        }
    }

    private static async Task WaitForNodesAsync(string url, int count)
    {
        using var client = new HttpClient { BaseAddress = new Uri(url + "/") };
        for (var i = 0; i < 300; i++)
        {
            using var nodes = JsonDocument.Parse(await client.GetStringAsync(new Uri("api/nodes", UriKind.Relative), Ct));
            if (nodes.RootElement.GetProperty("nodes").GetArrayLength() >= count)
            {
                return;
            }

            await Task.Delay(100, Ct);
        }

        throw new TimeoutException($"the dashboard did not list {count} nodes");
    }

    private static async Task<Dictionary<string, (byte R, byte G, byte B)>> ColorsAsync(HeadlessChromium chromium)
    {
        var json = await chromium.EvaluateAsync("JSON.stringify(ambientDashboard.colors)", Ct);
        return JsonSerializer.Deserialize<Dictionary<string, string>>(json.GetString()!)!
            .ToDictionary(c => c.Key, c => (Convert.ToByte(c.Value[1..3], 16), Convert.ToByte(c.Value[3..5], 16), Convert.ToByte(c.Value[5..7], 16)));
    }

    private static async Task<List<(string Name, int Left, int Top, int Width, int Height)>> PanelsAsync(HeadlessChromium chromium)
    {
        var json = await chromium.EvaluateAsync(
            "JSON.stringify([...document.querySelectorAll('.panel')].map(p => { const r = p.querySelector('canvas').getBoundingClientRect(); return [p.dataset.quantity, r.left, r.top, r.width, r.height]; }))",
            Ct);
        return JsonSerializer.Deserialize<JsonElement[][]>(json.GetString()!)!
            .Select(p => (p[0].GetString()!, (int)p[1].GetDouble(), (int)p[2].GetDouble(), (int)p[3].GetDouble(), (int)p[4].GetDouble())).ToList();
    }

    private static async Task<List<string>> LegendAsync(HeadlessChromium chromium) =>
        JsonSerializer.Deserialize<List<string>>((await chromium.EvaluateAsync("JSON.stringify([...document.querySelectorAll('#legend tbody tr')].map(r => r.cells[0].textContent))", Ct)).GetString()!)!;

    /// <summary>Keeps the screenshots where <c>AMBIENT_SCREENSHOTS</c> says (the README's picture comes from here).</summary>
    private static void Save(string name, byte[] png)
    {
        if (Environment.GetEnvironmentVariable("AMBIENT_SCREENSHOTS") is { Length: > 0 } target)
        {
            Directory.CreateDirectory(target);
            File.WriteAllBytes(Path.Combine(target, name), png);
        }
    }

    [GeneratedRegex(@"^dashboard:\s+(http://\S+)$")]
    private static partial Regex DashboardLine();

    [GeneratedRegex(@"embedded, 127\.0\.0\.1:(\d+)")]
    private static partial Regex BrokerLine();
}
