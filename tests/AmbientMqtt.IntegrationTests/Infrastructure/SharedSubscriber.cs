using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// One member of a shared subscription as its own process: <c>mosquitto_sub</c> (package mosquitto-clients) with MQTT 5,
/// QoS 1, a fixed client id and a persistent session (<c>-c -x</c>), printing each message with the time it arrived.
/// The payloads are <c>seq published-at</c> (unix seconds), as <see cref="Publish"/> writes them. It can be killed
/// with SIGKILL and started again with the same client id, which resumes its session.
/// </summary>
internal sealed class SharedSubscriber : IAsyncDisposable
{
    private readonly string _host;
    private readonly int _port;
    private readonly string _filter;
    private readonly int _sessionExpirySeconds;
    private readonly ConcurrentQueue<Arrival> _arrivals = new();
    private Process? _process;
    private volatile bool _subscribed;

    public SharedSubscriber(string host, int port, string filter, string clientId, int sessionExpirySeconds)
    {
        _host = host;
        _port = port;
        _filter = filter;
        ClientId = clientId;
        _sessionExpirySeconds = sessionExpirySeconds;
    }

    public string ClientId { get; }

    /// <summary>Gets the messages received so far, by every run of this member.</summary>
    public IReadOnlyList<Arrival> Arrivals => [.. _arrivals];

    public static string? Binary => PrivateMariaDb.FindBinary("mosquitto_sub");

    /// <summary>The payload of message <paramref name="seq"/>, with the time it is published.</summary>
    public static byte[] Publish(int seq) => System.Text.Encoding.ASCII.GetBytes(
        seq.ToString(CultureInfo.InvariantCulture) + " " + (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture));

    /// <summary>Starts mosquitto_sub and waits for its SUBACK.</summary>
    public async Task StartAsync()
    {
        var binary = Binary ?? throw new InvalidOperationException("mosquitto_sub is not installed (mosquitto-clients)");

        // Into a pipe, mosquitto_sub's stdout is block-buffered: each line would arrive late, with a wrong arrival time.
        // stdbuf (coreutils) makes it line-buffered and execs mosquitto_sub itself, so the process killed is the member.
        var stdbuf = PrivateMariaDb.FindBinary("stdbuf");
        var start = new ProcessStartInfo(stdbuf ?? binary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (stdbuf is not null)
        {
            start.ArgumentList.Add("-oL");
            start.ArgumentList.Add(binary);
        }

        foreach (var argument in new[]
        {
            "-h", _host, "-p", _port.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5", "-q", "1",
            "-i", ClientId, "-c", "-x", _sessionExpirySeconds.ToString(CultureInfo.InvariantCulture),
            "-t", _filter, "-d", "-F", "%U %p",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _subscribed = false;
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, _) => { };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var clock = Stopwatch.StartNew();
        while (!_subscribed)
        {
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                await KillAsync();
                throw new InvalidOperationException($"mosquitto_sub {ClientId} did not subscribe to {_filter}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Kills mosquitto_sub with SIGKILL: no DISCONNECT, the broker learns of it when the socket closes.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.Contains("received SUBACK", StringComparison.Ordinal))
        {
            _subscribed = true;
            return;
        }

        // "1733100000.123456789 42 1733099999.998": arrival time, then the payload.
        var parts = line.Split(' ');
        if (parts.Length == 3
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var arrived)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var seq)
            && double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var published))
        {
            _arrivals.Enqueue(new Arrival(seq, published, arrived));
        }
    }

    /// <summary>One message as received.</summary>
    /// <param name="Seq">Its number.</param>
    /// <param name="PublishedAt">When it was published, unix seconds.</param>
    /// <param name="ArrivedAt">When this member printed it, unix seconds.</param>
    internal sealed record Arrival(int Seq, double PublishedAt, double ArrivedAt)
    {
        public double Wait => ArrivedAt - PublishedAt;
    }
}
