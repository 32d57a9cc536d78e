using AmbientMqtt.Ingest;
using AmbientMqtt.Logging;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Hosting;

/// <summary>
/// Runs the <see cref="IngestPipeline"/> for the life of the host: the schema first (waiting for the database as long as
/// it is unreachable), then the subscription, then batches until the host stops, when what is in hand is committed and
/// acknowledged.
/// </summary>
/// <remarks>A problem that needs a person (a wrong password, a missing database or privilege, credentials the broker
/// refuses) is one critical log line; the host then stops and <see cref="Environment.ExitCode"/> is 1, so a service
/// manager sees the failure.</remarks>
internal sealed class IngestService(
    IngestPipeline pipeline,
    IReadingSubscriber subscriber,
    IHostApplicationLifetime lifetime,
    ILogger<IngestService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await pipeline.PrepareAsync(stoppingToken).ConfigureAwait(false);

            // Only now: a subscriber that took messages before the table existed would hold them for nothing.
            await subscriber.StartAsync(stoppingToken).ConfigureAwait(false);
            await pipeline.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (AmbientStorageException ex) when (!ex.IsTransient)
        {
            Fail(ex.Message);
        }
        catch (MqttConnectionException ex)
        {
            // MqttReadingSubscriber has logged the refusal, naming the broker, the client id and the keys to check; a
            // second line with the same words would only add noise.
            Fail(subscriber is MqttReadingSubscriber ? null : ex.Message);
        }
#pragma warning disable CA1031 // A bug must stop the program with a non-zero exit code, not leave it running without storing.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.IngestFailed(logger, ex);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    private void Fail(string? reason)
    {
        if (reason is not null)
        {
            Log.IngestStopped(logger, reason);
        }

        Environment.ExitCode = 1;
        lifetime.StopApplication();
    }
}
