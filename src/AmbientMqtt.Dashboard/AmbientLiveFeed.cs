using System.Threading.Channels;
using AmbientMqtt.Ingest;

namespace AmbientMqtt.Dashboard;

/// <summary>
/// Hands every newly stored reading to the dashboard's live clients (<c>/api/live</c>). An ingest pipeline in the same
/// process feeds it (<see cref="Attach"/>); without one, <c>/api/live</c> looks for new rows itself every
/// <see cref="DashboardOptions.PollInterval"/>.
/// </summary>
/// <remarks>Each client has a bounded queue: one that does not keep up loses its oldest readings, never the program's
/// memory, and the ingest is never held up.</remarks>
public sealed class AmbientLiveFeed : IDisposable
{
    /// <summary>Readings a slow client may fall behind before its oldest are dropped.</summary>
    internal const int ClientQueueCapacity = 5000;

    /// <summary>Live clients at once; more are answered 503.</summary>
    internal const int MaxClients = 64;

    private readonly Lock _gate = new();
    private readonly List<Channel<StoredReading>> _clients = [];
    private readonly List<IngestPipeline> _pipelines = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task? _poller;
    private bool _disposed;

    /// <summary>Gets a value indicating whether an ingest pipeline feeds it (otherwise the dashboard polls).</summary>
    public bool HasSource
    {
        get
        {
            lock (_gate)
            {
                return _pipelines.Count > 0;
            }
        }
    }

    /// <summary>Gets how many live clients are connected.</summary>
    public int ClientCount
    {
        get
        {
            lock (_gate)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>Gets a token that fires when the feed is disposed, ending every live response.</summary>
    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>Feeds the rows each committed batch of <paramref name="pipeline"/> inserted (not its duplicates).</summary>
    /// <param name="pipeline">The ingest pipeline of this process.</param>
    public void Attach(IngestPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        lock (_gate)
        {
            if (_pipelines.Contains(pipeline))
            {
                return;
            }

            _pipelines.Add(pipeline);
        }

        pipeline.BatchCommitted += OnBatchCommitted;
    }

    /// <summary>Hands one stored reading to every live client.</summary>
    /// <param name="reading">The reading as stored.</param>
    public void Publish(StoredReading reading)
    {
        lock (_gate)
        {
            foreach (var client in _clients)
            {
                client.Writer.TryWrite(reading);
            }
        }
    }

    /// <summary>Stops feeding: detaches from the pipelines and ends every live response.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var pipeline in _pipelines)
            {
                pipeline.BatchCommitted -= OnBatchCommitted;
            }

            _pipelines.Clear();
            foreach (var client in _clients)
            {
                client.Writer.TryComplete();
            }

            _clients.Clear();
        }

        // Not disposed: a live response or the poller may still be looking at the token.
        _stopping.Cancel();
    }

    /// <summary>Starts looking for new rows every <paramref name="interval"/> (once, however many clients ask) when no
    /// pipeline feeds the clients: rows later than the latest seen are handed on, so a reading stored late with an
    /// older timestamp (a backlog) is not; the page shows it on its next full load.</summary>
    internal void EnsurePolling(IAmbientReader reader, TimeSpan interval, TimeProvider time, Action<Exception> failed)
    {
        lock (_gate)
        {
            if (_disposed || _poller is not null)
            {
                return;
            }

            _poller = Task.Run(() => PollAsync(reader, interval, time, failed));
        }
    }

    private bool KeepPolling()
    {
        lock (_gate)
        {
            if (_clients.Count > 0 && _pipelines.Count == 0 && !_disposed)
            {
                return true;
            }

            // Under the lock: a client that subscribes from now on starts a new poller.
            _poller = null;
            return false;
        }
    }

    private async Task PollAsync(IAmbientReader reader, TimeSpan interval, TimeProvider time, Action<Exception> failed)
    {
        var token = _stopping.Token;
        var cursor = time.GetUtcNow();
        try
        {
            while (KeepPolling())
            {
                await Task.Delay(interval, time, token).ConfigureAwait(false);
                try
                {
                    // Up to a day ahead: a node whose clock runs fast still shows.
                    await foreach (var row in reader.ReadRowsAsync(cursor, time.GetUtcNow().AddDays(1), cancellationToken: token).ConfigureAwait(false))
                    {
                        Publish(row);
                        cursor = row.Timestamp.AddTicks(10) > cursor ? row.Timestamp.AddTicks(10) : cursor;
                    }
                }
                catch (AmbientStorageException ex)
                {
                    // The database may come back; the next round tries again.
                    failed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            lock (_gate)
            {
                _poller = null;
            }
        }
    }

    /// <summary>Registers a live client; <see langword="null"/> when there are too many.</summary>
    internal Channel<StoredReading>? Subscribe()
    {
        var channel = Channel.CreateBounded<StoredReading>(new BoundedChannelOptions(ClientQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = false,
        });
        lock (_gate)
        {
            if (_clients.Count >= MaxClients)
            {
                return null;
            }

            _clients.Add(channel);
        }

        return channel;
    }

    /// <summary>Forgets a live client.</summary>
    internal void Unsubscribe(Channel<StoredReading> channel)
    {
        lock (_gate)
        {
            _clients.Remove(channel);
        }

        channel.Writer.TryComplete();
    }

    private void OnBatchCommitted(object? sender, IngestBatchEventArgs e)
    {
        // On the pipeline's own thread: only queue writes, nothing that can block.
        foreach (var row in e.Result.Rows)
        {
            if (row.Outcome == RowOutcome.Inserted)
            {
                Publish(new StoredReading(row.Timestamp, row.Identifier, row.Temperature, row.Humidity, row.Pressure));
            }
        }
    }
}
