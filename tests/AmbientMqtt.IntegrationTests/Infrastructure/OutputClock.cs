using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using NodaTime;
using NodaTime.Text;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// Stamps each line MqttInsert writes to stdout with the time it arrived (sampled every 10 ms), and reads from its
/// <c>●NEW_DATA</c> lines how long the oldest reading of each line had waited since it was taken: the reading's
/// timestamp is its publish time when the test publishes readings stamped "now". A summary line of a burst is written up
/// to 200 ms after its batches commit, so the waits read here are upper bounds.
/// </summary>
internal sealed partial class OutputClock : IAsyncDisposable
{
    private static readonly OffsetDateTimePattern RowTime = OffsetDateTimePattern.CreateWithInvariantCulture("uuuu'-'MM'-'dd' 'HH':'mm':'ss'.'ffffffo<m>");

    private readonly SampleProcess _process;
    private readonly List<(Instant Arrived, string Line)> _lines = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;

    public OutputClock(SampleProcess process)
    {
        _process = process;
        _sampler = Task.Run(SampleAsync);
    }

    /// <summary>The wait of the oldest reading of each <c>●NEW_DATA</c> line, with the time the line arrived.</summary>
    public IReadOnlyList<(Instant Arrived, Duration Wait)> Waits()
    {
        lock (_lines)
        {
            var waits = new List<(Instant, Duration)>();
            foreach (var (arrived, line) in _lines)
            {
                var match = NewData().Match(line);
                if (match.Success && RowTime.Parse(match.Groups[1].Value) is { Success: true } stamp)
                {
                    waits.Add((arrived, arrived - stamp.Value.ToInstant()));
                }
            }

            return waits;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _sampler;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task SampleAsync()
    {
        var seen = 0;
        while (!_stop.IsCancellationRequested)
        {
            var output = _process.Output;
            if (output.Count > seen)
            {
                var now = SystemClock.Instance.GetCurrentInstant();
                lock (_lines)
                {
                    for (var i = seen; i < output.Count; i++)
                    {
                        _lines.Add((now, output[i]));
                    }
                }

                seen = output.Count;
            }

            await Task.Delay(10, _stop.Token);
        }
    }

    // A row line "●NEW_DATA:  {'timestamp': '…'" or a summary "●NEW_DATA:  N rows, from {'timestamp': '…'".
    [GeneratedRegex(@"^●NEW_DATA:  (?:\d+ rows, from )?\{'timestamp': '([^']+)'")]
    private static partial Regex NewData();
}
