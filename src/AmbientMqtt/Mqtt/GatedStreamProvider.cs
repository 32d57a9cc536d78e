using System.Net;
using System.Net.Sockets;
using MQTTnet.Channel;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Connects a subscriber's socket as MQTTnet's own TCP channel does (buffer sizes, no Nagle) and hands MQTTnet a
/// <see cref="GatedStream"/> over it; MQTTnet layers TLS on top when asked. MQTTnet's documented extension point for
/// stream-level layers (<see cref="IMqttClientStreamProvider"/>).
/// </summary>
internal sealed class GatedStreamProvider(ReceiveGate gate, int bufferSize) : IMqttClientStreamProvider
{
    public async Task<Stream> ConnectAsync(EndPoint brokerEndPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveBufferSize = bufferSize,
            SendBufferSize = bufferSize,
        };
        try
        {
            await socket.ConnectAsync(brokerEndPoint, cancellationToken).ConfigureAwait(false);
            return new GatedStream(new NetworkStream(socket, ownsSocket: true), gate);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
