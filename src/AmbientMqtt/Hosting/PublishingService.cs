using AmbientMqtt.Logging;
using AmbientMqtt.Publishing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Hosting;

/// <summary>
/// Runs the <see cref="PublishingPipeline"/> (sensor → publisher every <see cref="PublishOptions.Interval"/>, waiting with
/// the registered <see cref="TimeProvider"/>) for the life of the host.
/// </summary>
internal sealed class PublishingService(PublishingPipeline pipeline, IHostApplicationLifetime lifetime, ProgramExit exit, ILogger<PublishingService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await pipeline.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException && stoppingToken.IsCancellationRequested)
        {
            // Stopping: the publisher may already be gone.
        }
#pragma warning disable CA1031 // A bug must stop the program with a non-zero exit code, not leave it running without readings.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.PublishingFailed(logger, ex);
            exit.Fail(1, $"error: the publishing loop failed unexpectedly ({ex.GetType().Name}: {ex.Message}); the log above has the details");
            lifetime.StopApplication();
        }
    }
}
