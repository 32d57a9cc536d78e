using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using MySqlConnector;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// A throwaway MariaDB server of its own: a temporary data directory, a free loopback port, a unix socket in the same
/// directory, a test user with a random password. It never reads the machine's option files (<c>--no-defaults</c>) and
/// never touches a server the machine already runs. Tests can stop it cleanly, kill it, and start it again on the same
/// data directory and port.
/// </summary>
internal sealed class PrivateMariaDb : IAsyncDisposable
{
    private const string TestUser = "ambient";
    private const string TestDatabase = "ambient";

    // Servers still running when the test process exits (a crashed or aborted run) are killed, not orphaned.
    private static readonly ConcurrentDictionary<PrivateMariaDb, bool> Running = new();

    private readonly string _directory;
    private readonly string _mariadbd;
    private Process? _process;

    static PrivateMariaDb()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Running.Keys)
            {
                server.KillNow();
            }
        };
    }

    private PrivateMariaDb(string directory, string mariadbd, int port, string password)
    {
        _directory = directory;
        _mariadbd = mariadbd;
        Port = port;
        Password = password;
    }

    /// <summary>Gets a value indicating whether the MariaDB server binaries are installed, so that a private server can run.</summary>
    public static bool IsInstalled => FindBinary("mariadbd") is not null && FindBinary("mariadb-install-db") is not null;

    /// <summary>Gets the TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Gets the test user's password (random per server).</summary>
    public string Password { get; }

    /// <summary>Gets the test user's connection string: 127.0.0.1, the port, user <c>ambient</c> (all privileges,
    /// including CREATE DATABASE) and database <c>ambient</c>.</summary>
    public string ConnectionString => new MySqlConnectionStringBuilder
    {
        Server = "127.0.0.1",
        Port = (uint)Port,
        UserID = TestUser,
        Password = Password,
        Database = TestDatabase,
        ConnectionTimeout = 5,
    }.ConnectionString;

    /// <summary>Gets the server's error log, for a failure message.</summary>
    public string ErrorLog => File.Exists(ErrorLogPath) ? File.ReadAllText(ErrorLogPath) : "(no error log)";

    private string DataDirectory => Path.Combine(_directory, "data");

    private string SocketPath => Path.Combine(_directory, "mysql.sock");

    private string ErrorLogPath => Path.Combine(_directory, "error.log");

    // root has no password (--auth-root-authentication-method=normal) and is only reachable through the socket file,
    // which lives in the private directory.
    private string RootConnectionString => new MySqlConnectionStringBuilder
    {
        Server = SocketPath,
        ConnectionProtocol = MySqlConnectionProtocol.UnixSocket,
        UserID = "root",
        Pooling = false,
        ConnectionTimeout = 2,
    }.ConnectionString;

    /// <summary>Creates a data directory, starts the server, and creates the test user and database.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<PrivateMariaDb> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var mariadbd = FindBinary("mariadbd") ?? throw new InvalidOperationException("mariadbd was not found in PATH, /usr/sbin or /usr/bin; install mariadb-server.");
        var installDb = FindBinary("mariadb-install-db") ?? throw new InvalidOperationException("mariadb-install-db was not found; install mariadb-server.");

        // Short path: a unix socket path must stay under 108 bytes.
        var directory = Path.Combine(Path.GetTempPath(), "ambient-mariadb-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var server = new PrivateMariaDb(directory, mariadbd, FreePort(), password);
        try
        {
            await server.InstallAsync(installDb, cancellationToken).ConfigureAwait(false);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            await server.CreateUserAndDatabaseAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts the server (again) on the same data directory and port, and waits until it takes connections.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the server is ready.</returns>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("The server is already running.");
        }

        var start = new ProcessStartInfo(_mariadbd)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in ServerArguments())
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("mariadbd did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Running[this] = true;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            if (process.HasExited)
            {
                Running.TryRemove(this, out _);
                throw new InvalidOperationException($"mariadbd exited with code {process.ExitCode} while starting. Error log:\n{Tail(ErrorLog)}");
            }

            try
            {
                await using var connection = new MySqlConnection(RootConnectionString);
                await connection.OpenAsync(timeout.Token).ConfigureAwait(false);
                return;
            }
            catch (MySqlException) when (!timeout.IsCancellationRequested)
            {
                await Task.Delay(50, timeout.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Shuts the server down cleanly (<c>SHUTDOWN</c>) and waits until the process has exited.</summary>
    /// <returns>A task that completes when the server is down.</returns>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        try
        {
            await using var connection = new MySqlConnection(RootConnectionString);
            await connection.OpenAsync().ConfigureAwait(false);
            await using var command = new MySqlCommand("SHUTDOWN", connection);
            await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        }
        catch (MySqlException)
        {
            // The connection may drop before the reply: the server is going down either way.
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillNow();
        }

        Running.TryRemove(this, out _);
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open and nothing is answered, as a hung server or a
    /// machine under swap.</summary>
    public void Freeze() => Signals.Freeze(_process is { HasExited: false } p ? p.Id : throw new InvalidOperationException("The server is not running."));

    /// <summary>Lets a frozen server run again (SIGCONT).</summary>
    public void Thaw() => Signals.Thaw(_process is { HasExited: false } p ? p.Id : throw new InvalidOperationException("The server is not running."));

    /// <summary>Kills the server (SIGKILL), as a power cut or an OOM kill would; InnoDB recovers on the next start.</summary>
    /// <returns>A task that completes when the process is gone.</returns>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        try
        {
            Signals.Thaw(process.Id);   // a frozen server dies all the same, but let it not linger stopped
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }

        process.Kill();
        await process.WaitForExitAsync().ConfigureAwait(false);
        Running.TryRemove(this, out _);
    }

    /// <summary>Kills the server and deletes its directory.</summary>
    /// <returns>A task that completes when everything is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp directory; nothing else depends on it.
        }
    }

    /// <summary>Finds a MariaDB binary in PATH, /usr/sbin, /usr/bin or /usr/local/(s)bin.</summary>
    /// <param name="name">The binary's name.</param>
    /// <returns>Its full path, or <see langword="null"/>.</returns>
    public static string? FindBinary(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var directories = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]);
        return directories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    private static bool RunningAsRoot => Environment.UserName == "root";

    private async Task InstallAsync(string installDb, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(installDb)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("--no-defaults");
        start.ArgumentList.Add("--datadir=" + DataDirectory);
        if (RunningAsRoot)
        {
            start.ArgumentList.Add("--user=root");
        }

        start.ArgumentList.Add("--auth-root-authentication-method=normal");
        start.ArgumentList.Add("--skip-test-db");
        start.ArgumentList.Add("--skip-name-resolve");

        // Passed on to the bootstrap server: a small redo log keeps the data directory (and its creation) small.
        start.ArgumentList.Add("--innodb-log-file-size=8M");

        using var process = Process.Start(start) ?? throw new InvalidOperationException("mariadb-install-db did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"mariadb-install-db failed with code {process.ExitCode}:\n{Tail(await output.ConfigureAwait(false))}\n{Tail(await error.ConfigureAwait(false))}");
        }
    }

    private IEnumerable<string> ServerArguments()
    {
        yield return "--no-defaults";
        yield return "--datadir=" + DataDirectory;
        yield return "--socket=" + SocketPath;
        yield return "--port=" + Port.ToString(CultureInfo.InvariantCulture);
        yield return "--bind-address=127.0.0.1";
        yield return "--pid-file=" + Path.Combine(_directory, "mariadbd.pid");

        // Its temporary files in its own directory: a clean-up of the machine's /tmp must not pull them away mid-statement.
        yield return "--tmpdir=" + _directory;
        yield return "--log-error=" + ErrorLogPath;
        if (RunningAsRoot)
        {
            yield return "--user=root";
        }

        yield return "--skip-name-resolve";
        yield return "--innodb-buffer-pool-size=64M";
        yield return "--innodb-log-file-size=8M";
        yield return "--character-set-server=utf8mb4";
        yield return "--collation-server=utf8mb4_general_ci";
        yield return "--max-connections=500";
    }

    private async Task CreateUserAndDatabaseAsync(CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

        // Anonymous users (''@'localhost') would shadow 'ambient'@'%'-style matches; drop whatever exists.
        var anonymous = new List<string>();
        await using (var command = new MySqlCommand("SELECT Host FROM mysql.user WHERE User = ''", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                anonymous.Add(reader.GetString(0));
            }
        }

        await using var setup = new MySqlCommand { Connection = connection };
        setup.Parameters.AddWithValue("@password", Password);
        var sql = new System.Text.StringBuilder();
        foreach (var host in anonymous)
        {
            // User@host takes literals only; the host names come from the server's own table.
            sql.Append("DROP USER IF EXISTS ''@'").Append(MySqlHelper.EscapeString(host)).Append("';\n");
        }

        foreach (var host in new[] { "localhost", "127.0.0.1" })
        {
            sql.Append("CREATE USER '").Append(TestUser).Append("'@'").Append(host).Append("' IDENTIFIED BY @password;\n")
                .Append("GRANT ALL PRIVILEGES ON *.* TO '").Append(TestUser).Append("'@'").Append(host).Append("';\n");
        }

        sql.Append("CREATE DATABASE `").Append(TestDatabase).Append("` CHARACTER SET utf8mb4;\n");
        setup.CommandText = sql.ToString();
        await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private void KillNow()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Tail(string text)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 30)));
    }
}
