using AmbientMqtt.Logging;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Hosting;

/// <summary>
/// Ties the publisher to the host: it connects when the host starts (the first attempt; it keeps retrying by itself), and
/// when the host stops it waits, up to <see cref="FlushTimeout"/>, for queued messages to reach the broker (not at all when
/// they are in a spool and the broker is away: they are on disk and go out after the next start).
/// </summary>
internal sealed class MqttPublisherService(MqttReadingPublisher publisher, ILogger<MqttPublisherService> logger) : IHostedService
{
    /// <summary>How long stopping waits for queued messages.</summary>
    internal static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc/>
    /// <exception cref="MqttConnectionException">The broker refused the credentials or the client id.</exception>
    public Task StartAsync(CancellationToken cancellationToken) => publisher.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => FlushAsync(publisher, logger, cancellationToken);

    /// <summary>What stopping does with what is queued, here and in <see cref="AmbientHost"/>: waits for it to reach
    /// the broker, or, with a spool and the broker away, leaves it on disk at once; says what was left.</summary>
    internal static async Task FlushAsync(MqttReadingPublisher publisher, ILogger logger, CancellationToken cancellationToken)
    {
        if (publisher.SpoolPath is { } spool && !publisher.IsConnected)
        {
            // On disk already: waiting for a broker that is away would only delay the stop.
            if (publisher.Pending > 0)
            {
                Log.PublisherSpooled(logger, publisher.Pending, publisher.Endpoint, spool);
            }

            return;
        }

        bool flushed;
        try
        {
            flushed = await publisher.FlushAsync(FlushTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            flushed = false;
        }

        if (!flushed)
        {
            if (publisher.SpoolPath is { } path)
            {
                Log.PublisherSpooled(logger, publisher.Pending, publisher.Endpoint, path);
            }
            else
            {
                Log.PublisherNotFlushed(logger, publisher.Pending, publisher.Endpoint);
            }
        }
    }
}
