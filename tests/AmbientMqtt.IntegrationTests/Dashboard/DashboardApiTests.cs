using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AmbientMqtt.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using NodaTime;

namespace AmbientMqtt.IntegrationTests.Dashboard;

/// <summary>
/// The dashboard's HTTP contract against a real database, through a real Kestrel on a free loopback port: the JSON
/// buckets and the CSV equal what SQL computes from the same rows (across Berlin's fall-back), every bad parameter is a
/// 400 naming it, a database that is not there a 503, never a stack trace; the password, the live stream, the page.
/// </summary>
public abstract class DashboardApiTests
{
    private const string Berlin = "Europe/Berlin";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("2024-10-26T23:03:17.5%2B02:00", "2024-10-27T04:58:41Z", 100, null, 300)]
    [InlineData("2024-10-26T21:03:17Z", "2024-10-27T06:58:41%2B01:00", 9, null, 3600)]
    [InlineData("2024-10-27T00:31:00Z", "2024-10-27T01:11:00Z", 2000, "nöde,\"c\"", 2)]
    public async Task Readings_Range_JsonBucketsEqualWhatSqlComputesFromTheRows(string from, string to, int points, string? node, long width)
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store);
        using var client = Client(server);
        var query = $"from={from}&to={to}&points={points}" + (node is null ? string.Empty : "&node=" + Uri.EscapeDataString(node));

        using var response = await client.GetAsync(new Uri("api/readings?" + query, UriKind.Relative), Ct);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var root = json.RootElement;
        root.GetProperty("bucketSeconds").GetInt64().Should().Be(width);
        root.GetProperty("timeZone").GetString().Should().Be(Berlin);
        var fromInstant = Instant.FromDateTimeOffset(DateTimeOffset.Parse(Uri.UnescapeDataString(from), CultureInfo.InvariantCulture));
        var toInstant = Instant.FromDateTimeOffset(DateTimeOffset.Parse(Uri.UnescapeDataString(to), CultureInfo.InvariantCulture));
        root.GetProperty("from").GetString().Should().Be(fromInstant.InZone(DateTimeZoneProviders.Tzdb[Berlin]).ToDateTimeOffset().ToString(fromInstant.ToUnixTimeTicks() % 10_000_000 == 0 ? "yyyy-MM-ddTHH:mm:sszzz" : "yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture));
        var buckets = root.GetProperty("buckets").EnumerateArray().Select(b => (
            b.GetProperty("identifier").GetString()!,
            DateTimeOffset.Parse(b.GetProperty("time").GetString()!, CultureInfo.InvariantCulture),
            b.GetProperty("count").GetInt64(),
            Quantity(b.GetProperty("temperature")),
            Quantity(b.GetProperty("humidity")),
            Quantity(b.GetProperty("pressure")))).ToList();
        var expected = await store.ExpectedBucketsAsync(fromInstant, toInstant, width, ReadSideExpectations.OffsetAt(Berlin, fromInstant), node);
        ReadSideExpectations.ShouldMatch(buckets, expected, Berlin);
        root.GetProperty("buckets").EnumerateArray().Select(b => b.GetProperty("time").GetString()![^6..]).Distinct()
            .Should().BeSubsetOf(["+02:00", "+01:00"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("nöde,\"c\"")]
    public async Task Csv_AcrossFallBack_OneLinePerRowAsSqlHasItWithTheZonesOffset(string? node)
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store);
        using var client = Client(server);
        var from = Instant.FromUtc(2024, 10, 26, 23, 30);
        var to = Instant.FromUtc(2024, 10, 27, 1, 40);

        using var response = await client.GetAsync(
            new Uri($"api/readings.csv?from=2024-10-27T01:30:00%2B02:00&to=2024-10-27T01:40:00Z" + (node is null ? string.Empty : "&node=" + Uri.EscapeDataString(node)), UriKind.Relative),
            HttpCompletionOption.ResponseHeadersRead,
            Ct);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.ToString().Should().Be("text/csv; charset=utf-8");
        response.Content.Headers.ContentLength.Should().BeNull("the rows are streamed, not collected first");
        response.Content.Headers.ContentDisposition!.DispositionType.Should().Be("attachment");
        var text = await response.Content.ReadAsStringAsync(Ct);
        var lines = text.Split('\n');
        lines[0].Should().Be("timestamp,identifier,temperature,humidity,pressure");
        lines[^1].Should().BeEmpty("the last line ends with a newline");
        var expected = await store.ExpectedRowsAsync(from, to, node);
        expected.Should().HaveCountGreaterThan(100);
        var zone = DateTimeZoneProviders.Tzdb[Berlin];
        lines[1..^1].Should().Equal(expected.Select(e =>
        {
            var offset = zone.GetUtcOffset(Instant.FromUnixTimeTicks(e.UtcMicroseconds * 10)).ToTimeSpan();
            var identifier = e.Identifier.Contains(',', StringComparison.Ordinal) ? "\"" + e.Identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : e.Identifier;
            return string.Create(CultureInfo.InvariantCulture, $"{e.Local}{(offset < TimeSpan.Zero ? "-" : "+")}{offset:hh\\:mm},{identifier},{e.T},{e.H},{e.P}");
        }));
        text.Should().Contain("T02:30:").And.Contain("+02:00,").And.Contain("+01:00,");
    }

    [Fact]
    public async Task Nodes_LatestRowOfEachNodeWithItsAgeAndNoAvailabilityYet()
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store);
        using var client = Client(server);

        using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri("api/nodes", UriKind.Relative), Ct));

        var root = json.RootElement;
        root.GetProperty("timeZone").GetString().Should().Be(Berlin);
        root.GetProperty("staleAfterSeconds").GetDouble().Should().Be(60);
        var nodes = root.GetProperty("nodes").EnumerateArray().ToList();
        nodes.Select(n => n.GetProperty("identifier").GetString()).Should().Equal("Node-A", "node-a", "nöde,\"c\"");
        nodes.Select(n => (n.GetProperty("identifier").GetString()!, (DateTimeOffset.Parse(n.GetProperty("latest").GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture).UtcTicks - DateTime.UnixEpoch.Ticks) / 10))
            .Should().Equal(await store.ExpectedLatestAsync());
        nodes.Should().OnlyContain(n => n.GetProperty("stale").GetBoolean() && n.GetProperty("ageSeconds").GetDouble() > 86400 && n.GetProperty("availability").ValueKind == JsonValueKind.Null);
    }

    [Theory]
    [InlineData("api/readings", "from")]
    [InlineData("api/readings?to=2024-10-27T00:00:00Z", "from")]
    [InlineData("api/readings?from=abc&to=2024-10-27T00:00:00Z", "from")]
    [InlineData("api/readings?from=2024-10-27T00:00:00&to=2024-10-27T01:00:00Z", "from")]
    [InlineData("api/readings?from=2024-13-27T00:00:00Z&to=2024-10-27T01:00:00Z", "from")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z", "to")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=", "to")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-27T00:00:00Z", "to")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-26T00:00:00Z", "to")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&points=0", "points")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&points=10001", "points")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&points=1.5", "points")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&points=%27%3B%20DROP%20TABLE%20Ambient", "points")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&node=", "node")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&node=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "node")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&point=100", "point")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&from=2024-10-26T00:00:00Z&to=2024-10-28T00:00:00Z", "from")]
    [InlineData("api/readings.csv?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z&points=10", "points")]
    [InlineData("api/readings.csv?from=yesterday&to=2024-10-28T00:00:00Z", "from")]
    [InlineData("api/nodes?all=1", "all")]
    [InlineData("api/live?since=now", "since")]
    public async Task AnyRequest_BadParameter_400WithAMessageNamingItAndNoStackTrace(string request, string parameter)
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store);
        using var client = Client(server);

        using var response = await client.GetAsync(new Uri(request, UriKind.Relative), Ct);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var body = await response.Content.ReadAsStringAsync(Ct);
        using var json = JsonDocument.Parse(body);
        json.RootElement.GetProperty("parameter").GetString().Should().Be(parameter);
        json.RootElement.GetProperty("error").GetString().Should().StartWith(parameter + ": ");
        body.Should().NotContain("   at ").And.NotContain("Exception");
        (await store.Store.ScalarAsync("SELECT COUNT(*) FROM Ambient")).Should().Be(ReadSideExpectations.Rows().Count);
    }

    [Theory]
    [InlineData("api/nodes")]
    [InlineData("api/readings?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z")]
    [InlineData("api/readings.csv?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z")]
    public async Task AnyRequest_NoTableYet_503WithTheReasonAndNoStackTrace(string request)
    {
        await using var store = await CreateStoreAsync();
        await store.CreateTablesAsync(table: "Other");
        await using var server = await StartAsync(store);
        using var client = Client(server);

        using var response = await client.GetAsync(new Uri(request, UriKind.Relative), Ct);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        var body = await response.Content.ReadAsStringAsync(Ct);
        JsonDocument.Parse(body).RootElement.GetProperty("error").GetString().Should().Contain("Ambient").And.Contain("does not exist");
        body.Should().NotContain("   at ").And.NotContain("Exception");
    }

    [Fact]
    public async Task Page_ServedWithItsScriptsAndLicenceWithinTheSizeBudget()
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store);
        using var client = Client(server);

        using var page = await client.GetAsync(new Uri("/", UriKind.Relative), Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        page.Headers.GetValues("Content-Security-Policy").Single().Should().StartWith("default-src 'self'");
        var assets = System.Text.RegularExpressions.Regex.Matches(html, "(?:src|href)=\"([^\"#]+)\"").Select(m => m.Groups[1].Value).Where(u => !u.StartsWith("http", StringComparison.Ordinal) && !u.StartsWith("api/", StringComparison.Ordinal)).ToList();
        assets.Should().Contain(["vendor/uplot/uPlot.iife.min.js", "vendor/uplot/uPlot.min.css", "app.js", "app.css", "vendor/uplot/LICENSE"]);
        var total = Encoding.UTF8.GetByteCount(html);
        foreach (var asset in assets)
        {
            using var response = await client.GetAsync(new Uri(asset, UriKind.Relative), Ct);
            response.StatusCode.Should().Be(HttpStatusCode.OK, asset);
            var bytes = (await response.Content.ReadAsByteArrayAsync(Ct)).Length;
            total += asset.EndsWith(".js", StringComparison.Ordinal) || asset.EndsWith(".css", StringComparison.Ordinal) ? bytes : 0;
        }

        total.Should().BeLessThanOrEqualTo(150 * 1024, "HTML + JS + CSS stay within 150 KB");
        (await client.GetStringAsync(new Uri("vendor/uplot/LICENSE", UriKind.Relative), Ct)).Should().Contain("MIT License");
    }

    [Fact]
    public async Task Password_RequiredOnEveryRequestWhenSet()
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store, new DashboardOptions { Urls = "http://127.0.0.1:0", Password = "s3cret-pw" });
        using var client = Client(server);

        foreach (var path in new[] { "/", "app.js", "api/nodes", "api/readings.csv?from=2024-10-27T00:00:00Z&to=2024-10-28T00:00:00Z", "api/live" })
        {
            using var anonymous = await client.GetAsync(new Uri(path, UriKind.Relative), Ct);
            anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized, path);
            anonymous.Headers.WwwAuthenticate.ToString().Should().StartWith("Basic realm=");
            using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
            wrong.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("me:wrong")));
            (await client.SendAsync(wrong, Ct)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, path);
        }

        using var right = new HttpRequestMessage(HttpMethod.Get, new Uri("api/nodes", UriKind.Relative));
        right.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(":s3cret-pw")));
        (await client.SendAsync(right, Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0", null, "Dashboard:Password: must be set to serve the dashboard beyond loopback (Dashboard:Urls has http://0.0.0.0:0); set one, or listen on 127.0.0.1")]
    [InlineData("http://*:8080", null, "Dashboard:Password: must be set to serve the dashboard beyond loopback")]
    [InlineData("https://127.0.0.1:0", null, "Dashboard:Urls: 'https://127.0.0.1:0' is https")]
    [InlineData("http://dashboard.example:80", "pw", "Dashboard:Urls: 'http://dashboard.example:80' names host 'dashboard.example'")]
    [InlineData("http://127.0.0.1", null, "Dashboard:Urls: 'http://127.0.0.1' has no port")]
    [InlineData("http://127.0.0.1:0", "", "Dashboard:Password: is empty")]
    public async Task Start_BadSetting_RefusedWithALineNamingTheKey(string urls, string? password, string message)
    {
        await using var store = await CreateStoreAsync();

        var start = () => DashboardServer.StartAsync(store.CreateReader(Berlin), new DashboardOptions { Urls = urls, Password = password }, cancellationToken: Ct);

        (await start.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().StartWith(message);
    }

    [Fact]
    public async Task Start_DefaultPortTaken_TakesAFreeOne_GivenPortTaken_RefusedNamingIt()
    {
        await using var store = await PreparedStoreAsync();
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;

        await using (var server = await DashboardServer.StartAsync(store.CreateReader(Berlin), new DashboardOptions(), null, null, $"http://127.0.0.1:{port}", Ct))
        {
            server.Url.Should().StartWith("http://127.0.0.1:").And.NotBe($"http://127.0.0.1:{port}");
            using var client = Client(server);
            (await client.GetAsync(new Uri("api/nodes", UriKind.Relative), Ct)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        var given = () => DashboardServer.StartAsync(store.CreateReader(Berlin), new DashboardOptions { Urls = $"http://127.0.0.1:{port}" }, cancellationToken: Ct);
        (await given.Should().ThrowAsync<IOException>()).Which.Message.Should().StartWith("Dashboard:Urls: ").And.Contain(port.ToString(CultureInfo.InvariantCulture)).And.Contain("port 0 for a free one");
    }

    [Fact]
    public async Task Live_ReadingsPublishedToTheFeed_ArriveAsServerSentEvents()
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store);
        using var client = Client(server);
        using var response = await client.GetAsync(new Uri("api/live", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
        (await events.ReadLineAsync(Ct)).Should().Be("retry: 3000");
        await WaitAsync(() => server.Feed.ClientCount == 1);

        var at = new DateTimeOffset(2024, 10, 27, 2, 30, 0, TimeSpan.FromHours(1)).AddTicks(1234560);
        server.Feed.Publish(new StoredReading(at, "nöde,\"c\"", 21.5, 40.25, 1001.75));

        var lines = await ReadEventAsync(events);
        lines.Should().Equal("event: reading", "data: {\"timestamp\":\"2024-10-27T02:30:00.123456+01:00\",\"identifier\":\"nöde,\\\"c\\\"\",\"temperature\":21.5,\"humidity\":40.25,\"pressure\":1001.75}");
    }

    [Fact]
    public async Task Live_NoPipeline_NewRowsInTheTableArriveByPolling()
    {
        await using var store = await PreparedStoreAsync();
        await using var server = await StartAsync(store, new DashboardOptions { Urls = "http://127.0.0.1:0", PollInterval = TimeSpan.FromMilliseconds(200) });
        using var client = Client(server);
        using var response = await client.GetAsync(new Uri("api/live", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, Ct);
        using var events = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
        (await events.ReadLineAsync(Ct)).Should().Be("retry: 3000");
        await WaitAsync(() => server.Feed.ClientCount == 1);
        await Task.Delay(500, Ct);

        var now = SystemClock.Instance.GetCurrentInstant();
        await store.InsertAsync([new TestRow("late-node", now, 1.25, 2.5, 3.75)], Berlin);

        var lines = await ReadEventAsync(events);
        lines[0].Should().Be("event: reading");
        using var json = JsonDocument.Parse(lines[1]["data: ".Length..]);
        json.RootElement.GetProperty("identifier").GetString().Should().Be("late-node");
        json.RootElement.GetProperty("pressure").GetDouble().Should().Be(3.75);
    }

    [Fact]
    public async Task MapAmbientDashboard_UnderAPrefixInAnApplicationsOwnHost_ServesThePageAndTheApi()
    {
        await using var store = await PreparedStoreAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(store.CreateReader(Berlin));
        builder.Services.AddAmbientDashboard(o => o.StaleAfter = TimeSpan.FromMinutes(5));
        await using var application = builder.Build();
        application.MapAmbientDashboard("/dashboard");
        await application.StartAsync(Ct);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(application.Urls.First()) };

        using var redirect = await client.GetAsync(new Uri("/dashboard", UriKind.Relative), Ct);
        redirect.StatusCode.Should().Be(HttpStatusCode.Redirect);
        redirect.Headers.Location!.ToString().Should().Be("/dashboard/");
        (await client.GetStringAsync(new Uri("/dashboard/", UriKind.Relative), Ct)).Should().Contain("<script src=\"app.js\">");
        using var nodes = JsonDocument.Parse(await client.GetStringAsync(new Uri("/dashboard/api/nodes", UriKind.Relative), Ct));
        nodes.RootElement.GetProperty("staleAfterSeconds").GetDouble().Should().Be(300);
        nodes.RootElement.GetProperty("nodes").GetArrayLength().Should().Be(3);
        await application.StopAsync(Ct);
    }

    /// <summary>Makes an empty database of the derived class's kind.</summary>
    internal abstract Task<ReadSideStore> CreateStoreAsync();

    private static HttpClient Client(DashboardServer server) => new() { BaseAddress = new Uri(server.Url + "/"), Timeout = TimeSpan.FromSeconds(60) };

    private static Task<DashboardServer> StartAsync(ReadSideStore store, DashboardOptions? options = null) =>
        DashboardServer.StartAsync(store.CreateReader(Berlin), options ?? new DashboardOptions { Urls = "http://127.0.0.1:0" }, cancellationToken: Ct);

    private static QuantitySummary? Quantity(JsonElement element) => element.ValueKind == JsonValueKind.Null
        ? null
        : new QuantitySummary(element.GetProperty("min").GetDouble(), element.GetProperty("mean").GetDouble(), element.GetProperty("max").GetDouble());

    private static async Task<List<string>> ReadEventAsync(StreamReader events)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var lines = new List<string>();
        while (true)
        {
            var line = await events.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("the event stream ended");
            if (line.Length == 0)
            {
                if (lines.Count > 0)
                {
                    return lines;
                }

                continue;
            }

            if (!line.StartsWith(':'))
            {
                lines.Add(line);
            }
        }
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50, Ct);
        }

        condition().Should().BeTrue();
    }

    private async Task<ReadSideStore> PreparedStoreAsync()
    {
        var store = await CreateStoreAsync();
        await store.CreateTablesAsync();
        await store.InsertAsync(ReadSideExpectations.Rows(), Berlin);
        return store;
    }
}

/// <summary>The HTTP contract on MariaDB.</summary>
public sealed class MariaDbDashboardApiTests(Infrastructure.MariaDbFixture mariaDb) : DashboardApiTests
{
    internal override async Task<ReadSideStore> CreateStoreAsync() => await MariaDbReadSideStore.CreateAsync(mariaDb, TestContext.Current.CancellationToken);
}

/// <summary>The HTTP contract on SQLite.</summary>
public sealed class SqliteDashboardApiTests : DashboardApiTests
{
    internal override Task<ReadSideStore> CreateStoreAsync() => Task.FromResult<ReadSideStore>(new SqliteReadSideStore());
}
