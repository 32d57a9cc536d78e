using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AmbientMqtt.IntegrationTests.Dashboard;

/// <summary>
/// A real headless Chromium (Debian package <c>chromium</c>) driven over the DevTools protocol on a WebSocket: open a
/// page, evaluate script in it, take PNG screenshots. Nothing but Chromium and the BCL's <see cref="ClientWebSocket"/>.
/// Each instance has a fresh profile in a temporary directory and its DevTools port on loopback, chosen by Chromium.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private readonly StringBuilder _stderr = new();
    private int _nextId;

    private HeadlessChromium(Process process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
        _receiving = Task.Run(ReceiveAsync);
    }

    /// <summary>Gets the Chromium binary, or <see langword="null"/> when none is installed.</summary>
    public static string? Binary =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists)
        ?? (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "chromium")).FirstOrDefault(File.Exists);

    /// <summary>Starts Chromium with a window of the given size, on about:blank.</summary>
    public static async Task<HeadlessChromium> StartAsync(int width, int height, CancellationToken cancellationToken)
    {
        var binary = Binary ?? throw new InvalidOperationException("chromium is not installed");
        var profile = Directory.CreateTempSubdirectory("ambient-chromium-").FullName;
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };

        // The flags that keep Chromium from reaching out to the network (this machine has none) and from prompting.
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-quic", "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
            "--force-device-scale-factor=1", $"--window-size={width},{height}", $"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
        })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("chromium did not start");
        var stderr = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            // Chromium writes the port it took into the profile once DevTools listens.
            var portFile = Path.Combine(profile, "DevToolsActivePort");
            var deadline = Stopwatch.StartNew();
            while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2)
            {
                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"chromium did not open DevTools (exited: {process.HasExited}): {stderr}");
                }

                await Task.Delay(50, cancellationToken);
            }

            var port = File.ReadAllLines(portFile)[0].Trim();
            using var http = new HttpClient();
            string? pageSocket = null;
            while (pageSocket is null)
            {
                var targets = JsonNode.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list"), cancellationToken))!.AsArray();
                pageSocket = targets.FirstOrDefault(t => (string?)t!["type"] == "page")?["webSocketDebuggerUrl"]?.GetValue<string>();
                if (pageSocket is null)
                {
                    await Task.Delay(50, cancellationToken);
                }
            }

            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri(pageSocket), cancellationToken);
            var chromium = new HeadlessChromium(process, profile, socket);
            lock (stderr)
            {
                chromium._stderr.Append(stderr);
            }

            await chromium.SendAsync("Page.enable", null, cancellationToken);
            await chromium.SendAsync("Runtime.enable", null, cancellationToken);
            return chromium;
        }
        catch
        {
            Kill(process);
            TryDelete(profile);
            throw;
        }
    }

    /// <summary>Loads a page and waits until its load event.</summary>
    public async Task NavigateAsync(string url, CancellationToken cancellationToken)
    {
        var result = await SendAsync("Page.navigate", new JsonObject { ["url"] = url }, cancellationToken);
        if (result.TryGetProperty("errorText", out var error))
        {
            throw new InvalidOperationException($"chromium could not open {url}: {error.GetString()}");
        }

        await WaitForAsync("document.readyState === 'complete'", TimeSpan.FromSeconds(30), cancellationToken);
    }

    /// <summary>Evaluates an expression in the page (promises awaited) and returns its value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await SendAsync(
            "Runtime.evaluate",
            new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true },
            cancellationToken);
        if (result.TryGetProperty("exceptionDetails", out var exception))
        {
            throw new InvalidOperationException($"script failed in the page: {exception}");
        }

        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>Polls until <paramref name="expression"/> is true in the page.</summary>
    public async Task WaitForAsync(string expression, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await EvaluateAsync($"!!({expression})", cancellationToken);
            if (value.ValueKind == JsonValueKind.True)
            {
                return;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"'{expression}' did not become true within {timeout} in the page");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Takes a PNG screenshot of the viewport.</summary>
    public async Task<byte[]> ScreenshotAsync(CancellationToken cancellationToken)
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, cancellationToken);
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    /// <summary>What Chromium wrote on stderr (for failure messages).</summary>
    public string Describe()
    {
        lock (_stderr)
        {
            return _stderr.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        Kill(_process);
        try
        {
            await _receiving;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        _socket.Dispose();
        _process.Dispose();
        _stop.Dispose();
        TryDelete(_profile);
    }

    private async Task<JsonElement> SendAsync(string method, JsonObject? parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await reply.Task.WaitAsync(timeout.Token);
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
        {
            var result = await _socket.ReceiveAsync(buffer, _stop.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            message.Write(buffer, 0, result.Count);
            if (!result.EndOfMessage)
            {
                continue;
            }

            using var document = JsonDocument.Parse(message.ToArray());
            message.SetLength(0);
            var root = document.RootElement;
            if (root.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt32(), out var reply))
            {
                if (root.TryGetProperty("error", out var error))
                {
                    reply.TrySetException(new InvalidOperationException($"DevTools error: {error}"));
                }
                else
                {
                    reply.TrySetResult(root.GetProperty("result").Clone());
                }
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
