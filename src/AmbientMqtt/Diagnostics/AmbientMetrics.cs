using System.Diagnostics.Metrics;
using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// Every instrument of the meter <c>AmbientMqtt</c>, in one place, so the core classes record with one line each.
/// Read them with <c>dotnet-counters monitor --counters AmbientMqtt</c>, or with OpenTelemetry's
/// <c>AddMeter("AmbientMqtt")</c>.
/// </summary>
/// <remarks>
/// <para>The meter is static, as in most libraries: one process, one set of totals, whichever objects did the work.
/// Instruments carry no tags, so their cardinality is fixed.</para>
/// <para>Along the data flow a reading is counted as taken (sensor), published (the broker accepted it) or dropped (the
/// publisher's queue overflowed), received (the subscriber took it, redeliveries included), then inserted, a duplicate
/// or rejected (the batch it was in committed). Without a listener every call returns after a field check.</para>
/// </remarks>
internal static class AmbientMetrics
{
    /// <summary>The name of the meter.</summary>
    public const string MeterName = "AmbientMqtt";

    private static readonly Meter Meter = new(MeterName, typeof(AmbientMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> ReadingsTaken = Meter.CreateCounter<long>(
        "ambientmqtt.sensor.readings", "{reading}", "Readings taken from the sensor and handed to the publisher.");

    private static readonly Counter<long> MessagesPublished = Meter.CreateCounter<long>(
        "ambientmqtt.mqtt.published", "{message}", "Messages the MQTT broker accepted from the publisher.");

    private static readonly Counter<long> MessagesDropped = Meter.CreateCounter<long>(
        "ambientmqtt.mqtt.dropped", "{message}", "Messages dropped (oldest first) because the publisher's queue was full while the broker was away.");

    private static readonly Counter<long> MessagesReceived = Meter.CreateCounter<long>(
        "ambientmqtt.mqtt.received", "{message}", "Messages the subscriber received, redeliveries included.");

    private static readonly Counter<long> Reconnects = Meter.CreateCounter<long>(
        "ambientmqtt.mqtt.reconnects", "{connection}", "Connections to the MQTT broker made again after one was lost.");

    private static readonly Counter<long> RowsInserted = Meter.CreateCounter<long>(
        "ambientmqtt.ingest.inserted", "{row}", "Rows inserted into the table, counted when their batch has committed.");

    private static readonly Counter<long> RowsDuplicate = Meter.CreateCounter<long>(
        "ambientmqtt.ingest.duplicates", "{reading}", "Redelivered readings that were already stored and were skipped.");

    private static readonly Counter<long> PayloadsRejected = Meter.CreateCounter<long>(
        "ambientmqtt.ingest.rejected", "{payload}", "Payloads set aside in the dead-letter table (not a reading, or refused by the database).");

    private static readonly Histogram<int> BatchSize = Meter.CreateHistogram<int>(
        "ambientmqtt.ingest.batch.size",
        "{message}",
        "Messages stored and acknowledged together in one committed transaction.",
        tags: null,
        new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] });

    private static readonly Histogram<double> PublishToCommit = Meter.CreateHistogram<double>(
        "ambientmqtt.ingest.latency",
        "ms",
        "Time from a reading's timestamp (when it was taken and published) to the commit of its row.",
        tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000] });

    /// <summary>A reading was taken and handed to the publisher.</summary>
    public static void ReadingTaken() => ReadingsTaken.Add(1);

    /// <summary>The broker accepted a message.</summary>
    public static void MessagePublished() => MessagesPublished.Add(1);

    /// <summary>The publisher's full queue dropped its oldest message.</summary>
    public static void MessageDropped() => MessagesDropped.Add(1);

    /// <summary>The subscriber received a message.</summary>
    public static void MessageReceived() => MessagesReceived.Add(1);

    /// <summary>A connection to the broker was made; <paramref name="isReconnect"/> when it replaces a lost one.</summary>
    /// <param name="isReconnect">Whether an earlier connection of the same client was lost.</param>
    public static void Connected(bool isReconnect)
    {
        if (isReconnect)
        {
            Reconnects.Add(1);
        }
    }

    /// <summary>A batch committed: counts its rows, its size, and the latency of each row it inserted.</summary>
    /// <param name="result">What the batch wrote; <see cref="BatchWriteResult.Rows"/> is in the order of <paramref name="readings"/>.</param>
    /// <param name="readings">The readings of the batch, as decoded.</param>
    /// <param name="messages">The messages of the batch (readings and rejected payloads).</param>
    /// <param name="committedAt">When the commit was seen.</param>
    public static void BatchCommitted(BatchWriteResult result, IReadOnlyList<AmbientReading> readings, int messages, DateTimeOffset committedAt)
    {
        RowsInserted.Add(result.Inserted);
        RowsDuplicate.Add(result.Duplicates);
        PayloadsRejected.Add(result.Rejected);
        BatchSize.Record(messages);
        if (!PublishToCommit.Enabled)
        {
            return;
        }

        var now = Instant.FromDateTimeOffset(committedAt);
        var rows = result.Rows;
        for (var i = 0; i < readings.Count && i < rows.Count; i++)
        {
            // Only new rows: a duplicate is a redelivery, whose age says how long the broker kept it, not how fast we are.
            if (rows[i].Outcome == RowOutcome.Inserted)
            {
                PublishToCommit.Record((now - readings[i].Timestamp).TotalMilliseconds);
            }
        }
    }
}
