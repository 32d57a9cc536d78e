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
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        RunAsync(pipeline, logger, line =>
        {
            exit.Fail(1, line);
            lifetime.StopApplication();
        }, stoppingToken);

    /// <summary>Runs the loop until it is stopped; a failure of the loop is logged and handed to
    /// <paramref name="fail"/> as the one line that ends the program (here and in <see cref="AmbientHost"/>).</summary>
    internal static async Task RunAsync(PublishingPipeline pipeline, ILogger logger, Action<string> fail, CancellationToken stoppingToken)
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
            fail($"error: the publishing loop failed unexpectedly ({ex.GetType().Name}: {ex.Message}); the log above has the details");
        }
    }
}
