using System.Diagnostics.Metrics;
using AmbientMqtt.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AmbientMqtt.Publishing;

/// <summary>
/// Takes a reading from an <see cref="ISensorSource"/> every <see cref="PublishOptions.Interval"/> and hands it to an
/// <see cref="IReadingPublisher"/>: the loop of the tutorial's <c>mqtt_bme280_publish02.py</c>.
/// </summary>
/// <remarks>
/// <para>The first reading is taken at once, then one every interval, at a fixed rate (a slow read does not push the
/// following ones back). A failed read (a loose wire, a bus glitch) is logged and the next interval tries again; it
/// never stops the loop. Publishing only queues: the publisher sends when the broker is there.</para>
/// <para>The loop waits with the <see cref="TimeProvider"/> it is given, so a test can drive it with a fake clock.</para>
/// </remarks>
public sealed class PublishingPipeline
{
    private readonly ISensorSource _sensor;
    private readonly IReadingPublisher _publisher;
    private readonly TimeSpan _interval;
    private readonly string? _identifier;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly AmbientMetrics _metrics;
    private long _published;
    private long _failed;

    /// <summary>Initializes a new pipeline.</summary>
    /// <param name="sensor">Where readings come from.</param>
    /// <param name="publisher">Where readings go.</param>
    /// <param name="options">The interval and the identifier put on each reading; defaults when omitted. Read once, here.</param>
    /// <param name="logger">Where failed reads are logged.</param>
    /// <param name="timeProvider">The clock the loop waits with; <see cref="TimeProvider.System"/> when omitted.</param>
    /// <param name="meterFactory">Where the meter comes from; the process-wide meter when omitted.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names the key.</exception>
    public PublishingPipeline(
        ISensorSource sensor,
        IReadingPublisher publisher,
        PublishOptions? options = null,
        ILogger<PublishingPipeline>? logger = null,
        TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(sensor);
        ArgumentNullException.ThrowIfNull(publisher);
        options ??= new PublishOptions();
        OptionsCheck.ThrowIfInvalid(PublishOptionsValidator.Instance, options);

        _sensor = sensor;
        _publisher = publisher;
        _interval = options.Interval;
        _identifier = options.Identifier;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _metrics = AmbientMetrics.For(meterFactory);
    }

    /// <summary>Raised after each reading has been handed to the publisher, with the reading as the publisher sends it
    /// (its node identifier, its number), on the pipeline's own task.</summary>
    public event EventHandler<ReadingPublishedEventArgs>? ReadingPublished;

    /// <summary>Gets the number of readings handed to the publisher.</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>Gets the number of sensor reads that failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// Takes and publishes a reading every interval until <paramref name="stoppingToken"/> fires. Call it once.
    /// </summary>
    /// <param name="stoppingToken">Asks the loop to stop; a reading being published is handed over first.</param>
    /// <returns>A task that completes once the loop has stopped.</returns>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _timeProvider);
        try
        {
            do
            {
                AmbientReading reading;
                try
                {
                    reading = await _sensor.ReadAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (SensorException ex)
                {
                    Interlocked.Increment(ref _failed);
                    Log.SensorReadFailed(_logger, ex.Message);
                    continue;
                }

                if (_identifier is not null)
                {
                    reading = reading with { Identifier = _identifier };
                }

                _metrics.ReadingTaken();

                // Not cancelled by the stop: a reading taken is a reading handed over (and, with a spool, kept).
                reading = await _publisher.PublishAsync(reading, CancellationToken.None).ConfigureAwait(false);
                Interlocked.Increment(ref _published);
                ReadingPublished?.Invoke(this, new ReadingPublishedEventArgs(reading));
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
