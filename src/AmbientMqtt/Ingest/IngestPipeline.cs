using System.Diagnostics.Metrics;
using System.Threading.Channels;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AmbientMqtt.Ingest;

/// <summary>
/// Moves readings from an <see cref="IReadingSubscriber"/> into an <see cref="IAmbientRepository"/>: take what is
/// waiting → decode → one batch → commit → acknowledge, in arrival order. It depends on those two public contracts
/// only, so a subscriber or repository of your own gets exactly this pipeline.
/// </summary>
/// <remarks>
/// <para>A message is acknowledged only after the transaction holding its row has committed, so a crash at any point
/// loses nothing: the broker delivers what was not acknowledged again, and the idempotent insert turns a redelivery into
/// a no-op. The pipeline takes whatever is waiting (up to <see cref="IngestOptions.MaxBatchSize"/>) and never waits for
/// company, so a lone reading is written at once.</para>
/// <para>A payload that cannot become a row is acknowledged and set aside in the dead-letter table with its reason; it
/// never stops the pipeline or fails the batch around it. While the database is unreachable the batch is retried with
/// backoff and nothing is acknowledged; a write that goes unanswered for <see cref="IngestOptions.SlowWriteWarning"/> is
/// said at once. Readings that publishers numbered and that never arrived are counted and logged per node
/// (<see cref="Missing"/>).</para>
/// <para>The node of a reading is the one its topic names (<see cref="ReceivedMessage.Identifier"/>) when it names one,
/// else the payload's <c>identifier</c>, else the repository's configured one.</para>
/// </remarks>
public sealed class IngestPipeline
{
    private readonly IReadingSubscriber _subscriber;
    private readonly IAmbientRepository _repository;
    private readonly IngestOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly AmbientMetrics _metrics;
    private readonly GapDetector _gaps;
    private readonly HashSet<(string Topic, string Payload)> _identifierConflicts = [];
    private readonly Lock _progressGate = new();
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _prepared;
    private long _received;
    private long _inserted;
    private long _duplicates;
    private long _rejected;
    private long _missing;

    /// <summary>Initializes a new pipeline.</summary>
    /// <param name="subscriber">Where messages come from.</param>
    /// <param name="repository">Where rows go.</param>
    /// <param name="options">Batching and retry settings; defaults when omitted.</param>
    /// <param name="logger">Where retries and rejections are logged.</param>
    /// <param name="timeProvider">The clock for retry delays.</param>
    /// <param name="meterFactory">Where the meter comes from; the process-wide meter when omitted.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names the key.</exception>
    public IngestPipeline(
        IReadingSubscriber subscriber,
        IAmbientRepository repository,
        IngestOptions? options = null,
        ILogger<IngestPipeline>? logger = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(repository);
        _options = options ?? new IngestOptions();
        OptionsCheck.ThrowIfInvalid(IngestOptionsValidator.Instance, _options);
        _subscriber = subscriber;
        _repository = repository;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = AmbientMetrics.For(meterFactory);
        _gaps = new GapDetector(_options.ReorderWindow, _timeProvider);
    }

    /// <summary>Raised after each batch has been committed and acknowledged.</summary>
    public event EventHandler<IngestBatchEventArgs>? BatchCommitted;

    /// <summary>Gets the number of messages taken from the subscriber.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Gets the number of rows inserted.</summary>
    public long Inserted => Interlocked.Read(ref _inserted);

    /// <summary>Gets the number of redelivered readings that were already stored.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Gets the number of payloads set aside in the dead-letter table.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Gets the number of messages whose batch committed and that were acknowledged (inserted, duplicate or
    /// rejected).</summary>
    public long Processed => Inserted + Duplicates + Rejected;

    /// <summary>Gets the number of readings that publishers numbered and that never arrived.</summary>
    public long Missing => Interlocked.Read(ref _missing);

    /// <summary>
    /// Creates the tables when they are missing, retrying with backoff while the database is unreachable (a service may
    /// start before its database). <see cref="RunAsync"/> does this itself when it has not been done.
    /// </summary>
    /// <param name="cancellationToken">Gives up waiting for the database.</param>
    /// <returns>A task that completes once the schema is ready.</returns>
    /// <exception cref="AmbientStorageException">The database refused for a reason retrying will not fix.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired first.</exception>
    public async Task PrepareAsync(CancellationToken cancellationToken = default)
    {
        if (!await RetryAsync(ct => _repository.EnsureSchemaAsync(ct), cancellationToken).ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
        }

        _prepared = true;
    }

    /// <summary>
    /// Waits until <paramref name="count"/> messages have been processed (<see cref="Processed"/>), for a program that
    /// published them itself and wants them stored before it stops.
    /// </summary>
    /// <param name="count">How many messages.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns><see langword="true"/> when they were processed in time.</returns>
    public async Task<bool> WaitForProcessedAsync(long count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (Processed < count)
        {
            Task progress;
            lock (_progressGate)
            {
                progress = _progress.Task;
            }

            if (Processed >= count)
            {
                break;
            }

            try
            {
                await progress.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Processed >= count;
            }
        }

        return true;
    }

    /// <summary>
    /// Prepares the schema and moves messages until <paramref name="stoppingToken"/> fires; then stops receiving,
    /// stores and acknowledges what it holds, and returns.
    /// </summary>
    /// <param name="stoppingToken">Asks the pipeline to stop.</param>
    /// <returns>A task that completes once the pipeline has stopped.</returns>
    /// <exception cref="AmbientStorageException">The database refused for a reason retrying will not fix (wrong password,
    /// missing database or privilege); the message says which.</exception>
    /// <exception cref="Mqtt.MqttSubscriptionRefusedException">The subscriber ended its messages with this error (any
    /// exception a subscriber completes <see cref="IReadingSubscriber.Messages"/> with comes through).</exception>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var giveUp = new CancellationTokenSource();
        await using var registration = stoppingToken.Register(() =>
        {
            _ = _subscriber.StopReceivingAsync(CancellationToken.None);
            giveUp.CancelAfter(_options.ShutdownTimeout);
        }).ConfigureAwait(false);

        if (!_prepared)
        {
            if (!await RetryAsync(ct => _repository.EnsureSchemaAsync(ct), stoppingToken).ConfigureAwait(false))
            {
                return;
            }

            _prepared = true;
        }

        // A node that stops after a gap sends no batch that would report it: the window is watched on a clock too.
        var watch = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, _options.ReorderWindow.Ticks / 4));
        using var gapWatch = _timeProvider.CreateTimer(static s => ((IngestPipeline)s!).ReportOverdueGaps(), this, watch, watch);
        var reader = _subscriber.Messages;
        var messages = new List<ReceivedMessage>(Math.Min(_options.MaxBatchSize, 1024));
        var readings = new List<AmbientReading>(messages.Capacity);
        var rejected = new List<RejectedPayload>();
        var gaps = new List<GapDetector.Gap>();
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            messages.Clear();
            readings.Clear();
            rejected.Clear();
            while (messages.Count < _options.MaxBatchSize && reader.TryRead(out var message))
            {
                messages.Add(message);
                Decode(message, readings, rejected);
            }

            if (messages.Count == 0)
            {
                continue;
            }

            Interlocked.Add(ref _received, messages.Count);
            await SeedGapsAsync(readings, giveUp.Token).ConfigureAwait(false);
            var started = _timeProvider.GetTimestamp();
            BatchWriteResult? result = null;
            await RetryAsync(async ct => result = await _repository.WriteBatchAsync(readings, rejected, ct).ConfigureAwait(false), giveUp.Token).ConfigureAwait(false);
            if (result is null)
            {
                // Gave up during shutdown with the database unreachable: left unacknowledged, redelivered at next start.
                Log.ShutdownWithUnstored(_logger, messages.Count + (reader.CanCount ? reader.Count : 0));
                return;
            }

            var elapsed = _timeProvider.GetElapsedTime(started);

            // In the order they were taken, which is the order they arrived: MQTT acknowledges in that order.
            foreach (var message in messages)
            {
                await message.AcknowledgeAsync(CancellationToken.None).ConfigureAwait(false);
            }

            Interlocked.Add(ref _inserted, result.Inserted);
            Interlocked.Add(ref _duplicates, result.Duplicates);
            Interlocked.Add(ref _rejected, result.Rejected);
            _metrics.BatchCommitted(result, readings, messages.Count, _timeProvider.GetUtcNow());
            FindGaps(readings, gaps);
            SignalProgress();
            BatchCommitted?.Invoke(this, new IngestBatchEventArgs(result, rejected.ToArray(), elapsed, reader.TryPeek(out _)));
        }
    }

    private void SignalProgress()
    {
        TaskCompletionSource done;
        lock (_progressGate)
        {
            done = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        done.TrySetResult();
    }

    private void Decode(ReceivedMessage message, List<AmbientReading> readings, List<RejectedPayload> rejected)
    {
        var payload = message.Payload.Span;
        string? error;
        if (payload.Length > _options.MaxPayloadBytes)
        {
            error = $"payload of {payload.Length} bytes is larger than the {_options.MaxPayloadBytes}-byte limit (Ingest:MaxPayloadBytes)";
        }
        else if (AmbientPayload.TryDecode(payload, out var reading, out error))
        {
            if (message.Identifier is not { } node)
            {
                readings.Add(reading);
                return;
            }

            error = AmbientPayload.CheckIdentifier(node) is { } problem
                ? $"the topic's identifier level '{Shorten(node)}' cannot be a node's identifier: {problem.Replace("field 'identifier': ", string.Empty, StringComparison.Ordinal)}"
                : null;
            if (error is null)
            {
                if (reading.Identifier is { } claimed && !string.Equals(claimed, node, StringComparison.Ordinal)
                    && _identifierConflicts.Count < 10_000 && _identifierConflicts.Add((message.Topic, claimed)))
                {
                    Log.IdentifierConflict(_logger, LogText.Printable(message.Topic), node, claimed);
                }

                readings.Add(reading with { Identifier = node });
                return;
            }
        }

        Log.PayloadRejected(_logger, LogText.Printable(message.Topic), LogText.Printable(error));
        rejected.Add(new RejectedPayload(message.ReceivedAt, message.Topic, message.Payload, error));
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    private void FindGaps(List<AmbientReading> readings, List<GapDetector.Gap> gaps)
    {
        gaps.Clear();
        lock (_gaps)
        {
            foreach (var reading in readings)
            {
                if (reading.Sequence is { } sequence && _gaps.Observe(reading.Identifier ?? string.Empty, sequence, gaps))
                {
                    Log.Renumbered(_logger, NodeName(reading.Identifier), sequence);
                }
            }

            _gaps.CollectOverdue(gaps);
        }

        ReportGaps(gaps);
    }

    /// <summary>For a node first seen in this run, the number of its newest stored reading: a gap that began while this
    /// program was away (a broker that lost what it held for it) is one too. Asked before the batch is written.</summary>
    private async Task SeedGapsAsync(List<AmbientReading> readings, CancellationToken giveUp)
    {
        foreach (var reading in readings)
        {
            var node = reading.Identifier ?? string.Empty;
            if (reading.Sequence is null || reading.Identifier is null)
            {
                continue;
            }

            bool known;
            lock (_gaps)
            {
                known = _gaps.Knows(node);
            }

            if (known)
            {
                continue;
            }

            long? latest = null;
            await RetryAsync(async ct => latest = await _repository.LatestSequenceAsync(node, ct).ConfigureAwait(false), giveUp).ConfigureAwait(false);
            lock (_gaps)
            {
                _gaps.Seed(node, latest);
            }
        }
    }

    private void ReportOverdueGaps()
    {
        var gaps = new List<GapDetector.Gap>();
        lock (_gaps)
        {
            _gaps.CollectOverdue(gaps);
        }

        ReportGaps(gaps);
    }

    private void ReportGaps(List<GapDetector.Gap> gaps)
    {
        foreach (var gap in gaps)
        {
            Interlocked.Add(ref _missing, gap.Count);
            _metrics.ReadingsMissing(gap.Count);
            Log.ReadingsMissing(_logger, gap.Count, NodeName(gap.Identifier), gap.After, gap.Before);
        }
    }

    private static string NodeName(string? identifier) => string.IsNullOrEmpty(identifier) ? "(the node without identifier)" : identifier;

    /// <summary>Runs <paramref name="action"/> until it succeeds, backing off while the database is unreachable.</summary>
    /// <returns><see langword="false"/> when <paramref name="giveUp"/> fired first.</returns>
    private async Task<bool> RetryAsync(Func<CancellationToken, Task> action, CancellationToken giveUp)
    {
        var delay = _options.RetryDelay;
        var failures = 0;
        long outageStart = 0;
        while (true)
        {
            var attemptStart = _timeProvider.GetTimestamp();
            try
            {
                // Said while it lasts: a hung server otherwise stays silent until the driver's command timeout.
                using (_timeProvider.CreateTimer(static state => ((IngestPipeline)state!).SlowWrite(), this, _options.SlowWriteWarning, Timeout.InfiniteTimeSpan))
                {
                    await action(giveUp).ConfigureAwait(false);
                }

                if (failures > 0)
                {
                    // From the start of the first attempt that failed, which may have waited long for its answer.
                    Log.StorageRecovered(_logger, failures, _timeProvider.GetElapsedTime(outageStart).TotalSeconds);
                }

                return true;
            }
            catch (AmbientStorageException ex) when (ex.IsTransient)
            {
                if (failures++ == 0)
                {
                    outageStart = attemptStart;
                    Log.StorageUnavailable(_logger, ex.Message.TrimEnd('.'));
                }

                if (giveUp.IsCancellationRequested)
                {
                    return false;
                }

                try
                {
                    await Task.Delay(delay, _timeProvider, giveUp).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    private void SlowWrite() => Log.StorageSlow(_logger, _options.SlowWriteWarning.TotalSeconds);
}
