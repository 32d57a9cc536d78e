using System.Diagnostics;
using System.Threading.Channels;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Storage;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AmbientMqtt.Ingest;

/// <summary>
/// Moves readings from an <see cref="IReadingSubscriber"/> into an <see cref="IAmbientRepository"/>: receive → queue
/// (bounded by the unacknowledged messages the broker may send) → decode → one transaction per batch → commit → acknowledge.
/// </summary>
/// <remarks>
/// <para>A message is acknowledged only after the transaction holding its row has committed, so a crash at any point
/// loses nothing: the broker delivers what was not acknowledged again, and the idempotent insert turns a redelivery into
/// a no-op. The writer takes whatever is waiting (up to <see cref="IngestOptions.MaxBatchSize"/>) and never waits for
/// company, so a lone reading is written at once.</para>
/// <para>The pipeline runs on a thread of its own. With <see cref="Storage.MariaDbAmbientRepository"/> it writes with
/// blocking I/O on a connection it opens for itself, and with <see cref="Mqtt.MqttReadingSubscriber"/> it is woken
/// directly as messages arrive; other repositories and subscribers are used through their asynchronous interfaces.</para>
/// <para>A payload that cannot become a row is acknowledged and set aside in the dead-letter table with its reason; it
/// never stops the pipeline or fails the batch around it. While the database is unreachable the batch is retried with
/// backoff and nothing is acknowledged, so the broker stops sending once the subscriber's window of unacknowledged
/// messages is full.</para>
/// </remarks>
public sealed class IngestPipeline
{
    private readonly IReadingSubscriber _subscriber;
    private readonly IAmbientRepository _repository;
    private readonly IngestOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private bool _prepared;
    private long _received;
    private long _inserted;
    private long _duplicates;
    private long _rejected;

    /// <summary>Initializes a new pipeline.</summary>
    /// <param name="subscriber">Where messages come from.</param>
    /// <param name="repository">Where rows go.</param>
    /// <param name="options">Batching and retry settings; defaults when omitted.</param>
    /// <param name="logger">Where retries and rejections are logged.</param>
    /// <param name="timeProvider">The clock for retry delays.</param>
    public IngestPipeline(
        IReadingSubscriber subscriber,
        IAmbientRepository repository,
        IngestOptions? options = null,
        ILogger<IngestPipeline>? logger = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        ArgumentNullException.ThrowIfNull(repository);
        _subscriber = subscriber;
        _repository = repository;
        _options = options ?? new IngestOptions();
        if (_options.MaxBatchSize < 1)
        {
            throw new ArgumentException($"Ingest:MaxBatchSize: must be at least 1 (got {_options.MaxBatchSize})", nameof(options));
        }

        if (_options.MaxPayloadBytes < 256)
        {
            throw new ArgumentException($"Ingest:MaxPayloadBytes: must be at least 256 (got {_options.MaxPayloadBytes})", nameof(options));
        }

        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Raised after each batch has been committed and acknowledged, on the pipeline's own thread.</summary>
    public event EventHandler<IngestBatchEventArgs>? BatchCommitted;

    /// <summary>Gets the number of messages taken from the subscriber.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Gets the number of rows inserted.</summary>
    public long Inserted => Interlocked.Read(ref _inserted);

    /// <summary>Gets the number of redelivered readings that were already stored.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Gets the number of payloads set aside in the dead-letter table.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

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
        await RetryAsync(ct => _repository.EnsureSchemaAsync(ct), cancellationToken, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await OpenWriterAsync().ConfigureAwait(false);
        _prepared = true;
    }

    /// <summary>
    /// Prepares the schema and moves messages until <paramref name="stoppingToken"/> fires; then stops receiving,
    /// stores and acknowledges what it holds, and returns.
    /// </summary>
    /// <param name="stoppingToken">Asks the pipeline to stop.</param>
    /// <returns>A task that completes once the pipeline has stopped.</returns>
    /// <exception cref="AmbientStorageException">The database refused for a reason retrying will not fix (wrong password,
    /// missing database or privilege); the message says which.</exception>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var shutdown = new CancellationTokenSource();
        await using var registration = stoppingToken.Register(() =>
        {
            _ = _subscriber.StopReceivingAsync(CancellationToken.None);
            shutdown.CancelAfter(_options.ShutdownTimeout);
        }).ConfigureAwait(false);

        if (!_prepared)
        {
            await RetryAsync(ct => _repository.EnsureSchemaAsync(ct), stoppingToken, stoppingToken).ConfigureAwait(false);
            await OpenWriterAsync().ConfigureAwait(false);
            _prepared = true;
        }

        // The loop runs on a thread of its own and, with a repository that can, writes with blocking I/O: waiting in a
        // socket and being woken by the kernel costs less than an asynchronous hop through the thread pool, and at
        // thousands of messages a second those hops were most of the pipeline's CPU time (benchmarks/README.md).
        await Task.Factory.StartNew(
            () => Run(stoppingToken, shutdown.Token),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
    }

    /// <summary>The writer's connection is opened at start, as the tutorial's is, not by the first reading.</summary>
    private Task OpenWriterAsync()
        => _repository is ISynchronousBatchWriter writer
            ? Task.Factory.StartNew(writer.OpenWriter, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.CompletedTask;

    private void Run(CancellationToken stoppingToken, CancellationToken giveUp)
    {
        var reader = _subscriber.Messages;
        var writer = _repository as ISynchronousBatchWriter;
        var messages = new List<ReceivedMessage>(_options.MaxBatchSize);
        var readings = new List<AmbientReading>(_options.MaxBatchSize);
        var rejected = new List<RejectedPayload>();
        var connections = new List<MqttConnectionStream>(1);
        using var wake = new ManualResetEventSlim(false, spinCount: 0);
        Action signal = wake.Set;
        using var arrival = new ArrivalSignal();
        var notifier = _subscriber as IArrivalNotifier;
        if (notifier is not null)
        {
            notifier.ArrivalSignal = arrival;
        }

        Func<bool> ready = () => reader.TryPeek(out _) || reader.Completion.IsCompleted;
        try
        {
            while (notifier is not null ? WaitToRead(reader, arrival, ready) : WaitToRead(reader, wake, signal))
            {
                if (!RunBatch())
                {
                    return;
                }
            }
        }
        finally
        {
            if (notifier is not null)
            {
                notifier.ArrivalSignal = null;
            }
        }

        // One batch: take what is waiting, store it, acknowledge it. False when shutdown gave up on an unreachable database.
        bool RunBatch()
        {
            messages.Clear();
            readings.Clear();
            rejected.Clear();
            while (messages.Count < _options.MaxBatchSize && reader.TryRead(out var message))
            {
                messages.Add(message);
                Decode(message, readings, rejected);
            }

            Interlocked.Add(ref _received, messages.Count);
            var started = _timeProvider.GetTimestamp();
            BatchWriteResult? result = null;
            Wait(RetryAsync(
                ct =>
                {
                    if (writer is not null)
                    {
                        result = writer.WriteBatch(readings, rejected, ct);
                        return Task.CompletedTask;
                    }

                    return WriteAsync(ct);
                },
                stoppingToken,
                giveUp));
            if (result is null)
            {
                // Gave up during shutdown with the database unreachable: left unacknowledged, redelivered at next start.
                Log.ShutdownWithUnstored(_logger, messages.Count);
                return false;
            }

            Acknowledge(messages, connections);
            Interlocked.Add(ref _inserted, result.Inserted);
            Interlocked.Add(ref _duplicates, result.Duplicates);
            Interlocked.Add(ref _rejected, result.Rejected);
            AmbientMetrics.BatchCommitted(result, readings, messages.Count, _timeProvider.GetUtcNow());
            BatchCommitted?.Invoke(this, new IngestBatchEventArgs(result, rejected.ToArray(), _timeProvider.GetElapsedTime(started), reader.TryPeek(out _)));
            return true;

            async Task WriteAsync(CancellationToken ct) => result = await _repository.WriteBatchAsync(readings, rejected, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Acknowledges a committed batch. Messages from an MQTT connection's own stream are acknowledged together and their
    /// PUBACKs sent in one write per connection, on this thread.
    /// </summary>
    private static void Acknowledge(List<ReceivedMessage> messages, List<MqttConnectionStream> connections)
    {
        connections.Clear();
        foreach (var message in messages)
        {
            if (message is IBatchAcknowledgement batched)
            {
                if (batched.AcknowledgeDeferred() is { } connection && !connections.Contains(connection))
                {
                    connections.Add(connection);
                }
            }
            else
            {
                Wait(message.AcknowledgeAsync(CancellationToken.None));
            }
        }

        foreach (var connection in connections)
        {
            connection.SendPending();
        }
    }

    /// <summary>Waits for messages without spinning, woken directly by the subscriber as it delivers.</summary>
    private static bool WaitToRead(ChannelReader<ReceivedMessage> reader, ArrivalSignal arrival, Func<bool> ready)
    {
        while (!ready())
        {
            arrival.Wait(ready);
        }

        // Ready means a message or the end; after the end, what is still queued is taken first.
        return reader.TryPeek(out _);
    }

    /// <summary>Waits for messages without spinning: the subscriber's channel sets <paramref name="wake"/> when one comes.</summary>
    private static bool WaitToRead(ChannelReader<ReceivedMessage> reader, ManualResetEventSlim wake, Action signal)
    {
        var pending = reader.WaitToReadAsync(CancellationToken.None);
        if (pending.IsCompleted)
        {
            return pending.Result;
        }

        wake.Reset();
        var awaiter = pending.ConfigureAwait(false).GetAwaiter();
        awaiter.UnsafeOnCompleted(signal);
        wake.Wait();
        return awaiter.GetResult();
    }

    private static void Wait(Task task) => task.GetAwaiter().GetResult();

    private static void Wait(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        task.AsTask().GetAwaiter().GetResult();
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
            readings.Add(reading);
            return;
        }

        Log.PayloadRejected(_logger, message.Topic, error);
        rejected.Add(new RejectedPayload(message.ReceivedAt, message.Topic, message.Payload, error));
    }

    private async Task RetryAsync(Func<CancellationToken, Task> action, CancellationToken stoppingToken, CancellationToken giveUp)
    {
        var delay = _options.RetryDelay;
        var failures = 0;
        var outage = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await action(giveUp).ConfigureAwait(false);
                if (failures > 0)
                {
                    Log.StorageRecovered(_logger, failures, outage.Elapsed);
                }

                return;
            }
            catch (AmbientStorageException ex) when (ex.IsTransient)
            {
                if (giveUp.IsCancellationRequested)
                {
                    return;
                }

                failures++;
                if (failures == 1)
                {
                    outage.Restart();
                    Log.StorageUnavailable(_logger, ex.Message);
                }

                try
                {
                    await Task.Delay(delay, _timeProvider, giveUp).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
            catch (OperationCanceledException) when (giveUp.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
