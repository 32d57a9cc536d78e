using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using NodaTime;

namespace AmbientMqtt;

/// <summary>
/// Every instrument of the meter <c>AmbientMqtt</c>, in one place, so the core classes record with one line each.
/// Read them with <c>dotnet-counters monitor --counters AmbientMqtt</c>, or with OpenTelemetry's
/// <c>AddMeter("AmbientMqtt")</c>.
/// </summary>
/// <remarks>
/// <para>The meter comes from the host's <see cref="IMeterFactory"/> when there is one (what the <c>AddAmbient…</c>
/// methods pass on, so that two hosts in one process, or two tests, keep their figures apart); a part made without one
/// shares one process-wide meter. Instruments carry no tags, so their cardinality is fixed.</para>
/// <para>Along the data flow a reading is counted as taken (sensor), published (the broker accepted it) or dropped (the
/// publisher's queue overflowed), received (the subscriber took it, redeliveries included), then inserted, a duplicate
/// or rejected (the batch it was in committed); readings a node numbered but that never arrived are counted as missing.
/// Without a listener every call returns after a field check.</para>
/// </remarks>
internal sealed class AmbientMetrics
{
    /// <summary>The name of the meter.</summary>
    public const string MeterName = "AmbientMqtt";

    private static readonly ConditionalWeakTable<IMeterFactory, AmbientMetrics> ByFactory = [];
    private static readonly Lazy<AmbientMetrics> Process = new(() => new AmbientMetrics(new Meter(MeterName, Version)));

    private readonly Counter<long> _readingsTaken;
    private readonly Counter<long> _messagesPublished;
    private readonly Counter<long> _messagesDropped;
    private readonly Counter<long> _messagesReceived;
    private readonly Counter<long> _reconnects;
    private readonly Counter<long> _rowsInserted;
    private readonly Counter<long> _rowsDuplicate;
    private readonly Counter<long> _payloadsRejected;
    private readonly Counter<long> _readingsMissing;
    private readonly Counter<long> _conflicts;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _publishToCommit;

    private AmbientMetrics(Meter meter)
    {
        _readingsTaken = meter.CreateCounter<long>(
            "ambientmqtt.sensor.readings", "{reading}", "Readings taken from the sensor and handed to the publisher.");
        _messagesPublished = meter.CreateCounter<long>(
            "ambientmqtt.mqtt.published", "{message}", "Messages the MQTT broker accepted from the publisher.");
        _messagesDropped = meter.CreateCounter<long>(
            "ambientmqtt.mqtt.dropped", "{message}", "Readings dropped (oldest first) because the publisher's queue or spool was full while the broker was away.");
        _messagesReceived = meter.CreateCounter<long>(
            "ambientmqtt.mqtt.received", "{message}", "Messages the subscriber received, redeliveries included.");
        _reconnects = meter.CreateCounter<long>(
            "ambientmqtt.mqtt.reconnects", "{connection}", "Connections to the MQTT broker made again after one was lost.");
        _rowsInserted = meter.CreateCounter<long>(
            "ambientmqtt.ingest.inserted", "{row}", "Rows inserted into the table, counted when their batch has committed.");
        _rowsDuplicate = meter.CreateCounter<long>(
            "ambientmqtt.ingest.duplicates", "{reading}", "Redelivered readings that were already stored and were skipped.");
        _payloadsRejected = meter.CreateCounter<long>(
            "ambientmqtt.ingest.rejected", "{payload}", "Payloads set aside in the dead-letter table (not a reading, or refused by the database).");
        _readingsMissing = meter.CreateCounter<long>(
            "ambientmqtt.ingest.missing", "{reading}", "Readings a node numbered (seq) that never arrived: lost on the way, by the broker or before it.");
        _conflicts = meter.CreateCounter<long>(
            "ambientmqtt.storage.conflicts", "{batch}", "Batches retried after a conflict with another writer (Galera certification conflict, deadlock).");
        _batchSize = meter.CreateHistogram<int>(
            "ambientmqtt.ingest.batch.size",
            "{message}",
            "Messages stored and acknowledged together in one committed transaction.",
            tags: null,
            new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] });
        _publishToCommit = meter.CreateHistogram<double>(
            "ambientmqtt.ingest.latency",
            "ms",
            "Time from a reading's timestamp (when it was taken and published) to the commit of its row.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000] });
    }

    private static string? Version => typeof(AmbientMetrics).Assembly.GetName().Version?.ToString();

    /// <summary>The instruments of <paramref name="meterFactory"/>'s meter, or the process-wide ones when there is none.</summary>
    public static AmbientMetrics For(IMeterFactory? meterFactory) => meterFactory is null
        ? Process.Value
        : ByFactory.GetValue(meterFactory, f => new AmbientMetrics(f.Create(new MeterOptions(MeterName) { Version = Version })));

    /// <summary>A reading was taken and handed to the publisher.</summary>
    public void ReadingTaken() => _readingsTaken.Add(1);

    /// <summary>The broker accepted a message.</summary>
    public void MessagePublished() => _messagesPublished.Add(1);

    /// <summary>The publisher's full queue (or spool) dropped its oldest reading.</summary>
    public void MessageDropped(long count = 1) => _messagesDropped.Add(count);

    /// <summary>The subscriber received a message.</summary>
    public void MessageReceived() => _messagesReceived.Add(1);

    /// <summary>A connection to the broker was made; <paramref name="isReconnect"/> when it replaces a lost one.</summary>
    /// <param name="isReconnect">Whether an earlier connection of the same client was lost.</param>
    public void Connected(bool isReconnect)
    {
        if (isReconnect)
        {
            _reconnects.Add(1);
        }
    }

    /// <summary>A node's numbering skipped readings that never arrived.</summary>
    public void ReadingsMissing(long count) => _readingsMissing.Add(count);

    /// <summary>A batch was retried after a conflict with another writer.</summary>
    public void Conflict() => _conflicts.Add(1);

    /// <summary>A batch committed: counts its rows, its size, and the latency of each row it inserted.</summary>
    /// <param name="result">What the batch wrote; <see cref="BatchWriteResult.Rows"/> is in the order of <paramref name="readings"/>.</param>
    /// <param name="readings">The readings of the batch, as decoded.</param>
    /// <param name="messages">The messages of the batch (readings and rejected payloads).</param>
    /// <param name="committedAt">When the commit was seen.</param>
    public void BatchCommitted(BatchWriteResult result, IReadOnlyList<AmbientReading> readings, int messages, DateTimeOffset committedAt)
    {
        _rowsInserted.Add(result.Inserted);
        _rowsDuplicate.Add(result.Duplicates);
        _payloadsRejected.Add(result.Rejected);
        _batchSize.Record(messages);
        if (!_publishToCommit.Enabled)
        {
            return;
        }

        var now = Instant.FromDateTimeOffset(committedAt);
        var rows = result.Rows;
        for (var i = 0; i < readings.Count && i < rows.Count; i++)
        {
            // Only new rows: a duplicate is a redelivery, whose age says how long the broker kept it, not how fast we are.
            // And only readings from the past: a clock far ahead on a node (or a payload's timestamp from the future) says
            // nothing about our speed and would spoil the histogram's sum.
            if (rows[i].Outcome == RowOutcome.Inserted && (now - readings[i].Timestamp).TotalMilliseconds is >= 0 and var age)
            {
                _publishToCommit.Record(age);
            }
        }
    }
}
