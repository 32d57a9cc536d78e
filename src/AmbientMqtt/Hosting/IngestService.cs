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
    ProgramExit exit,
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
            Fail("error: " + ex.Message, 1);
        }
        catch (MqttConnectionException ex)
        {
            // MqttReadingSubscriber has logged the refusal, naming the broker, the client id and the keys to check.
            Fail("error: " + ex.Message, 1, logged: subscriber is MqttReadingSubscriber);
        }
        catch (MqttSubscriptionRefusedException ex)
        {
            // A setting (the topic, the broker's rules): exit code 2, so systemd does not restart it in a loop.
            Fail("configuration error: " + ex.Message, 2, logged: subscriber is MqttReadingSubscriber);
        }
#pragma warning disable CA1031 // A bug must stop the program with a non-zero exit code, not leave it running without storing.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.IngestFailed(logger, ex);
            exit.Fail(1, $"error: the ingest failed unexpectedly ({ex.GetType().Name}: {ex.Message}); the log above has the details");
            lifetime.StopApplication();
        }
    }

    private void Fail(string line, int exitCode, bool logged = false)
    {
        if (exit.Fail(exitCode, line) && !logged)
        {
            Log.IngestStopped(logger, line);
        }

        lifetime.StopApplication();
    }
}
