using AmbientMqtt.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AmbientMqtt.Dashboard;

/// <summary>Feeds the live clients from the host's ingest pipeline, when it has one.</summary>
internal sealed class LiveFeedAttachment(IServiceProvider services, AmbientLiveFeed feed) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IngestPipeline>() is { } pipeline)
        {
            feed.Attach(pipeline);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        feed.Dispose();
        return Task.CompletedTask;
    }
}
