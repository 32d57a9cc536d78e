using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>What MqttInsert's stdout says it did: the rows of its <c>●NEW_DATA</c> lines (one per row, or one summary
/// line per burst) and its last line, <c>stopped: N row(s) inserted, N duplicate(s) skipped, N payload(s) rejected</c>.</summary>
internal static partial class MqttInsertOutput
{
    /// <summary>The readings MqttInsert has written so far, inserted or found already stored (redeliveries included).</summary>
    public static long Offered(SampleProcess process)
    {
        long rows = 0;
        foreach (var line in process.Output)
        {
            if (!line.StartsWith("●NEW_DATA:  ", StringComparison.Ordinal))
            {
                continue;
            }

            var summary = SummaryLine().Match(line);
            rows += summary.Success ? long.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
        }

        return rows;
    }

    /// <summary>The rows MqttInsert has inserted so far (its <c>(N row affected.)</c> lines).</summary>
    public static long Inserted(SampleProcess process)
    {
        long rows = 0;
        foreach (var line in process.Output)
        {
            var affected = AffectedLine().Match(line);
            if (affected.Success)
            {
                rows += long.Parse(affected.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        return rows;
    }

    /// <summary>Waits until <paramref name="process"/> has written at least <paramref name="count"/> readings.</summary>
    public static async Task<long> WaitForOfferedAsync(SampleProcess process, long count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        long offered;
        while ((offered = Offered(process)) < count && clock.Elapsed < timeout && !process.HasExited)
        {
            await Task.Delay(100);
        }

        return offered;
    }

    /// <summary>The counts of the <c>stopped:</c> line MqttInsert prints at a clean stop.</summary>
    public static (long Inserted, long Duplicates, long Rejected) Stopped(SampleProcess process)
    {
        var line = process.Output.LastOrDefault(l => l.StartsWith("stopped: ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("MqttInsert printed no 'stopped:' line.\n" + process.Describe());
        var match = StoppedLine().Match(line);
        if (!match.Success)
        {
            throw new InvalidOperationException("MqttInsert's 'stopped:' line has changed: " + line);
        }

        return (
            long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^●NEW_DATA:  (\d+) rows, from ")]
    private static partial Regex SummaryLine();

    [GeneratedRegex(@"^ クエリを実行しました。\((\d+) row affected\.\)$")]
    private static partial Regex AffectedLine();

    [GeneratedRegex(@"^stopped: (\d+) row\(s\) inserted, (\d+) duplicate\(s\) skipped, (\d+) payload\(s\) rejected")]
    private static partial Regex StoppedLine();
}
