using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// A plain MQTTnet subscriber that records every payload on a topic. It keeps a persistent session and reconnects, so
/// it also collects what was published while its broker was restarting.
/// </summary>
internal sealed class MqttCollector : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly MqttClientOptions _options;
    private readonly string _topic;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _payloads = new();
    private Task? _reconnect;

    private MqttCollector(string host, int port, string topic)
    {
        _topic = topic;
        _client = new MqttClientFactory().CreateMqttClient();
        _options = new MqttClientOptionsBuilder()
            .WithTcpServer(host, port)
            .WithClientId("collector-" + Guid.NewGuid().ToString("N")[..8])
            .WithCleanStart(false)
            .WithSessionExpiryInterval(600)
            .Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            _payloads.Enqueue(Encoding.UTF8.GetString(e.ApplicationMessage.Payload));
            return Task.CompletedTask;
        };
    }

    public IReadOnlyList<string> Payloads => _payloads.ToArray();

    public static async Task<MqttCollector> StartAsync(string host, int port, string topic)
    {
        var collector = new MqttCollector(host, port, topic);
        await collector.ConnectAsync(CancellationToken.None);
        collector._reconnect = Task.Run(collector.KeepConnectedAsync);
        return collector;
    }

    public async Task<IReadOnlyList<string>> WaitForCountAsync(int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (_payloads.Count < count && deadline.Elapsed < timeout)
        {
            await Task.Delay(50);
        }

        return Payloads;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_reconnect is not null)
        {
            await _reconnect;
        }

        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var result = await _client.ConnectAsync(_options, cancellationToken);
        if (!result.IsSessionPresent)
        {
            await _client.SubscribeAsync(
                new MqttClientSubscribeOptionsBuilder().WithTopicFilter(_topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(),
                cancellationToken);
        }
    }

    private async Task KeepConnectedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(100, _stop.Token);
                if (!_client.IsConnected)
                {
                    await ConnectAsync(_stop.Token);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception)
            {
                // Broker still down: try again.
            }
        }
    }
}
