using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Hosting;

namespace AmbientMqtt.Hosting;

/// <summary>Starts the <see cref="EmbeddedBroker"/> with the host (registered first, so before the clients connect)
/// and stops it last.</summary>
internal sealed class EmbeddedBrokerService(EmbeddedBroker broker) : IHostedService
{
    /// <exception cref="EmbeddedBrokerException">The port is taken; the message says how to choose another.</exception>
    public Task StartAsync(CancellationToken cancellationToken) => broker.StartAsync(cancellationToken);

    // Stopped when the container disposes it, after the clients (registered later, disposed earlier) have disconnected.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
