using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AmbientMqtt.Dashboard.Logging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using NodaTime;

namespace AmbientMqtt.Dashboard;

/// <summary>
/// The handlers of the dashboard's requests. Every one answers a bad parameter with 400 and a message naming it, a
/// database that does not answer with 503 and its one-line reason, anything else with 500 and a pointer to the log:
/// never a stack trace, whatever the host's environment.
/// </summary>
internal sealed class DashboardApi
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);

    private readonly IAmbientReader _reader;
    private readonly AmbientLiveFeed _feed;
    private readonly DashboardOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BasicAuthentication _authentication;
    private readonly CancellationToken _stopping;
    private readonly DateTimeZone _zone;

    public DashboardApi(IAmbientReader reader, AmbientLiveFeed feed, DashboardOptions options, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        _reader = reader;
        _feed = feed;
        _options = options;
        _time = time;
        _logger = logger;
        _authentication = new BasicAuthentication(options.Password);
        _stopping = stopping;
        _zone = DateTimeZoneProviders.Tzdb.GetZoneOrNull(reader.TimeZone) ?? DateTimeZone.Utc;
    }

    public Task PageAsync(HttpContext context) => GuardAsync(context, () =>
    {
        // Relative links (api/nodes, app.js) need the trailing slash when the dashboard is mapped under a prefix.
        var path = context.Request.PathBase + context.Request.Path;
        if (!path.HasValue || !path.Value.EndsWith('/'))
        {
            context.Response.Redirect(path + "/" + context.Request.QueryString);
            return Task.CompletedTask;
        }

        return SendAssetAsync(context, "index.html");
    });

    public Task AssetAsync(HttpContext context, string path) => GuardAsync(context, () => SendAssetAsync(context, path));

    public Task NodesAsync(HttpContext context) => GuardAsync(context, async () =>
    {
        QueryParameters.Only(context.Request.Query);
        var nodes = await _reader.GetNodesAsync(context.RequestAborted).ConfigureAwait(false);
        var now = Instant.FromDateTimeOffset(_time.GetUtcNow()).InZone(_zone).ToDateTimeOffset();
        await JsonAsync(context, StatusCodes.Status200OK, json => DashboardJson.Nodes(json, nodes, _reader.TimeZone, now, _options.StaleAfter)).ConfigureAwait(false);
    });

    public Task ReadingsAsync(HttpContext context) => GuardAsync(context, async () =>
    {
        var query = context.Request.Query;
        QueryParameters.Only(query, "from", "to", "node", "points");
        var (from, to) = QueryParameters.Range(query);
        var node = QueryParameters.Node(query);
        var points = QueryParameters.Points(query);
        var buckets = await _reader.GetBucketsAsync(from, to, points, node, context.RequestAborted).ConfigureAwait(false);
        await JsonAsync(context, StatusCodes.Status200OK, json => DashboardJson.Buckets(json, buckets, _reader.TimeZone)).ConfigureAwait(false);
    });

    public Task CsvAsync(HttpContext context) => GuardAsync(context, async () =>
    {
        var query = context.Request.Query;
        QueryParameters.Only(query, "from", "to", "node");
        var (from, to) = QueryParameters.Range(query);
        var node = QueryParameters.Node(query);
        var started = Stopwatch.GetTimestamp();

        // The first row is read before anything is sent, so that a database that does not answer is still a 503.
        var rows = _reader.ReadRowsAsync(from, to, node, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);
        await using (rows.ConfigureAwait(false))
        {
            var any = await rows.MoveNextAsync().ConfigureAwait(false);
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/csv; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(from, to, node)}\"";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var written = 0L;
            try
            {
                written = await CsvWriter.WriteAsync(response.BodyWriter, Continue(rows, any), context.RequestAborted).ConfigureAwait(false);
            }
            catch (AmbientStorageException ex)
            {
                // Too late for a status: the client sees a cut-off download, and the log says why.
                Log.CsvStopped(_logger, context.Request.Path, written, ex.Message);
                context.Abort();
                return;
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Log.CsvWritten(_logger, context.Request.Path, written, elapsed);
            }
        }
    });

    public Task LiveAsync(HttpContext context) => GuardAsync(context, async () =>
    {
        QueryParameters.Only(context.Request.Query);
        var channel = _feed.Subscribe();
        if (channel is null)
        {
            await JsonAsync(context, StatusCodes.Status503ServiceUnavailable, json => DashboardJson.Error(json, $"more than {AmbientLiveFeed.MaxClients} live clients; try again later", null)).ConfigureAwait(false);
            return;
        }

        try
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            if (!_feed.HasSource)
            {
                _feed.EnsurePolling(_reader, _options.PollInterval, _time, ex => Log.PollFailed(_logger, ex.Message));
            }

            using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping, _feed.Stopping);
            var pipe = response.BodyWriter;
            pipe.Write("retry: 3000\n\n"u8);
            await pipe.FlushAsync(ended.Token).ConfigureAwait(false);
            while (!ended.IsCancellationRequested)
            {
                using var beat = CancellationTokenSource.CreateLinkedTokenSource(ended.Token);
                beat.CancelAfter(Heartbeat);
                bool ready;
                try
                {
                    ready = await channel.Reader.WaitToReadAsync(beat.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ended.IsCancellationRequested)
                {
                    // A comment line keeps proxies and the browser from taking a quiet connection for a dead one.
                    pipe.Write(": keep-alive\n\n"u8);
                    await pipe.FlushAsync(ended.Token).ConfigureAwait(false);
                    continue;
                }

                if (!ready)
                {
                    break;
                }

                while (channel.Reader.TryRead(out var reading))
                {
                    pipe.Write("event: reading\ndata: "u8);
                    using (var json = new Utf8JsonWriter(pipe, DashboardJson.WriterOptions))
                    {
                        DashboardJson.Reading(json, reading);
                    }

                    pipe.Write("\n\n"u8);
                }

                await pipe.FlushAsync(ended.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away, or the program is stopping.
        }
        finally
        {
            _feed.Unsubscribe(channel);
        }
    });

    private static async IAsyncEnumerable<StoredReading> Continue(IAsyncEnumerator<StoredReading> rows, bool any)
    {
        if (!any)
        {
            yield break;
        }

        yield return rows.Current;
        while (await rows.MoveNextAsync().ConfigureAwait(false))
        {
            yield return rows.Current;
        }
    }

    private static string FileName(DateTimeOffset from, DateTimeOffset to, string? node)
    {
        var name = new StringBuilder("ambient-");
        if (node is not null)
        {
            foreach (var c in node)
            {
                name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
            }

            name.Append('-');
        }

        return name.Append(from.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture))
            .Append('-')
            .Append(to.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture))
            .Append(".csv")
            .ToString();
    }

    private static async Task JsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        using (var json = new Utf8JsonWriter(response.BodyWriter, DashboardJson.WriterOptions))
        {
            write(json);
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task SendAssetAsync(HttpContext context, string path)
    {
        var asset = DashboardAssets.Instance.Find(path);
        var response = context.Response;
        if (asset is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        response.Headers.ETag = asset.ETag;
        response.Headers.CacheControl = "no-cache";
        if (path.EndsWith(".html", StringComparison.Ordinal))
        {
            // The page runs only its own scripts and talks only to its own server.
            response.Headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";
        }

        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(asset.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private async Task GuardAsync(HttpContext context, Func<Task> handle)
    {
        var response = context.Response;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (!_authentication.Check(context))
        {
            return;
        }

        try
        {
            await handle().ConfigureAwait(false);
        }
        catch (BadParameterException ex) when (!response.HasStarted)
        {
            await JsonAsync(context, StatusCodes.Status400BadRequest, json => DashboardJson.Error(json, ex.Message, ex.Parameter)).ConfigureAwait(false);
        }
        catch (AmbientStorageException ex) when (!response.HasStarted)
        {
            Log.StorageFailed(_logger, context.Request.Path, ex.Message);
            await JsonAsync(context, StatusCodes.Status503ServiceUnavailable, json => DashboardJson.Error(json, ex.Message, null)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
#pragma warning disable CA1031 // Whatever went wrong, the client gets one line and the log gets the details.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.RequestFailed(_logger, ex, context.Request.Path);
            if (response.HasStarted)
            {
                context.Abort();
                return;
            }

            response.Headers.Clear();
            await JsonAsync(context, StatusCodes.Status500InternalServerError, json => DashboardJson.Error(json, "internal error; the program's log has the details", null)).ConfigureAwait(false);
        }
    }
}
