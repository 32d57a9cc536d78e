using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>The broker settings a private mosquitto runs with.</summary>
public enum MosquittoSettings
{
    /// <summary>The project's <c>deploy/mosquitto/ambientmqtt.conf</c>, as the README tells users to install it.</summary>
    Shipped,

    /// <summary>mosquitto's own defaults (<c>max_queued_messages 1000</c>, <c>autosave_interval 1800</c>), as
    /// Debian installs it.</summary>
    Stock,
}

/// <summary>
/// A throwaway mosquitto on a free loopback port, with persistence in a temp directory, that a test may stop, kill and
/// start again on the same port (fault tests). Unless told otherwise it runs with the settings the project ships
/// (<c>deploy/mosquitto/ambientmqtt.conf</c>, included as a user includes it from <c>conf.d</c>).
/// </summary>
public sealed class PrivateMosquitto : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _config;
    private Process? _process;

    private PrivateMosquitto(string binary, int port, string directory, string? listenerOptions, MosquittoSettings settings, string? extraLines)
    {
        Binary = binary;
        Port = port;
        _directory = directory;
        _config = Path.Combine(directory, "mosquitto.conf");
        var include = string.Empty;
        if (settings == MosquittoSettings.Shipped)
        {
            var confd = Directory.CreateDirectory(Path.Combine(directory, "conf.d")).FullName;
            File.Copy(ShippedConfig, Path.Combine(confd, "ambientmqtt.conf"));
            include = $"include_dir {confd}";
        }

        File.WriteAllText(_config, $"""
            listener {port} 127.0.0.1
            {listenerOptions}
            allow_anonymous true
            user {Environment.UserName}
            persistence true
            persistence_location {directory}/
            log_dest file {directory}/mosquitto.log
            {extraLines}
            {include}

            """);
    }

    /// <summary>Gets the project's broker settings, copied beside the tests.</summary>
    public static string ShippedConfig => Path.Combine(AppContext.BaseDirectory, "deploy", "ambientmqtt.conf");

    /// <summary>Gets the broker's log file.</summary>
    public string LogPath => Path.Combine(_directory, "mosquitto.log");

    public string Binary { get; }

    public string Host => "127.0.0.1";

    public int Port { get; }

    public static string? FindBinary()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin")
            .Select(d => Path.Combine(d, "mosquitto"));
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <param name="listenerOptions">Lines for the listener, such as <c>certfile</c> and <c>keyfile</c> for TLS.</param>
    /// <param name="settings">The project's settings or mosquitto's own.</param>
    /// <param name="extraLines">More lines for the configuration, such as <c>log_type all</c>.</param>
    public static async Task<PrivateMosquitto> StartNewAsync(string? listenerOptions = null, MosquittoSettings settings = MosquittoSettings.Shipped, string? extraLines = null)
    {
        var binary = FindBinary() ?? throw new InvalidOperationException("mosquitto is not installed (run ./test.sh, which installs it)");
        var directory = Directory.CreateTempSubdirectory("ambientmqtt-mosquitto-").FullName;
        var server = new PrivateMosquitto(binary, FreePort(), directory, listenerOptions, settings, extraLines);
        await server.StartAsync();
        return server;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task StartAsync()
    {
        _process = Process.Start(new ProcessStartInfo(Binary, ["-c", _config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitForPortAsync(Host, Port, TimeSpan.FromSeconds(10));
    }

    /// <summary>Stops the broker the polite way (SIGTERM), so it saves its persistence file.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            Signals.Terminate(process.Id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token);
        }
    }

    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal static async Task WaitForPortAsync(string host, int port, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(host, port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < timeout)
            {
                await Task.Delay(50);
            }
        }
    }
}
