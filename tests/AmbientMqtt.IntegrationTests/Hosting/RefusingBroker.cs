using System.Diagnostics;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Hosting;

/// <summary>A throwaway mosquitto that refuses every client: no anonymous access and no password file.</summary>
internal sealed class RefusingBroker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private RefusingBroker(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    public static async Task<RefusingBroker> StartAsync()
    {
        var binary = PrivateMosquitto.FindBinary();
        if (binary is null)
        {
            ServerEnvironment.SkipOrFail("mosquitto is not installed (./test.sh installs it)");
        }

        var directory = Directory.CreateTempSubdirectory("ambientmqtt-refusing-").FullName;
        var port = PrivateMosquitto.FreePort();
        var config = Path.Combine(directory, "mosquitto.conf");
        File.WriteAllText(config, $"""
            listener {port} 127.0.0.1
            allow_anonymous false
            user {Environment.UserName}
            log_dest file {directory}/mosquitto.log

            """);
        var process = Process.Start(new ProcessStartInfo(binary!, ["-c", config]) { UseShellExecute = false })
            ?? throw new InvalidOperationException("mosquitto did not start");
        var broker = new RefusingBroker(process, directory, port);
        await PrivateMosquitto.WaitForPortAsync(broker.Host, port, TimeSpan.FromSeconds(10));
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
