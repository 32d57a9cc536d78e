using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using MySqlConnector;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// A throwaway three-node MariaDB Galera cluster on loopback, started by the tests: each node on an address of its own
/// (<c>127.a.b.2</c>, <c>.3</c>, <c>.4</c>, all routed to <c>lo</c> by Linux) with the same SQL port, because a
/// MySqlConnector connection string gives one <c>Port</c> for all its hosts; free replication, IST and SST ports on those
/// addresses; temp data directories; <c>--no-defaults</c>. The first node bootstraps the cluster, the other two join it
/// by a state transfer over rsync (Debian's <c>mariadb-server</c> depends on <c>galera-4</c> and <c>rsync</c>, so
/// nothing else is needed). Anonymous accounts are dropped and a test user with a random password is created. A node can
/// be killed (SIGKILL) and restarted: it recovers its position and rejoins by IST, as the Debian unit's
/// <c>galera_recovery</c> makes it. Every node still running when the test process exits is killed.
/// </summary>
internal sealed class PrivateGalera : IAsyncDisposable
{
    private const string TestUser = "ambient";

    // Nodes still running when the test process exits (a crashed or aborted run) are killed, not orphaned.
    private static readonly ConcurrentDictionary<GaleraNode, bool> Running = new();

    private readonly string _directory;
    private readonly List<GaleraNode> _nodes = [];

    static PrivateGalera()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var node in Running.Keys)
            {
                node.KillNow();
            }
        };
    }

    private PrivateGalera(string directory, string mariadbd, string provider, string? runAs, string[] addresses, int[] ports)
    {
        _directory = directory;
        Mariadbd = mariadbd;
        Provider = provider;
        RunAs = runAs;
        SqlPort = ports[0];
        ReplicationPort = ports[1];
        IstPort = ports[2];
        SstPort = ports[3];
        Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        Name = "ambient-" + Path.GetFileName(directory)[^8..];
        for (var i = 0; i < addresses.Length; i++)
        {
            _nodes.Add(new GaleraNode(this, i, addresses[i], Path.Combine(directory, "n" + (i + 1).ToString(CultureInfo.InvariantCulture))));
        }
    }

    /// <summary>Gets why a cluster cannot run here, or <see langword="null"/> when it can.</summary>
    public static string? Unavailable
    {
        get
        {
            if (PrivateMariaDb.FindBinary("mariadbd") is null || PrivateMariaDb.FindBinary("mariadb-install-db") is null)
            {
                return "mariadbd or mariadb-install-db was not found (Debian package mariadb-server)";
            }

            if (FindProvider() is null)
            {
                return "the Galera library libgalera_smm.so was not found (Debian package galera-4, a dependency of mariadb-server)";
            }

            if (PrivateMariaDb.FindBinary("rsync") is null || PrivateMariaDb.FindBinary("wsrep_sst_rsync") is null)
            {
                return "rsync or wsrep_sst_rsync was not found (Debian packages rsync and mariadb-server)";
            }

            if (RunningAsRoot && !UserExists("mysql"))
            {
                return "running as root, the nodes run as user mysql (rsync's SST daemon drops root to nobody), and there is no such user";
            }

            return null;
        }
    }

    /// <summary>Gets the nodes, in cluster address order; node 0 bootstrapped the cluster.</summary>
    public IReadOnlyList<GaleraNode> Nodes => _nodes;

    /// <summary>Gets the SQL port every node listens on, each on its own address.</summary>
    public int SqlPort { get; }

    /// <summary>Gets the Galera replication port (gmcast) of every node.</summary>
    public int ReplicationPort { get; }

    /// <summary>Gets the IST receive port of every node.</summary>
    public int IstPort { get; }

    /// <summary>Gets the rsync SST receive port of every node.</summary>
    public int SstPort { get; }

    /// <summary>Gets the test user's password (random per cluster).</summary>
    public string Password { get; }

    /// <summary>Gets the cluster's name (<c>wsrep_cluster_name</c>), unique per cluster so that no other joins it. (Galera
    /// refuses, with nothing clearer than "handling gmcast protocol message failed", a name beyond 32 characters.)</summary>
    public string Name { get; }

    internal string Mariadbd { get; }

    internal string Provider { get; }

    internal string? RunAs { get; }

    private static bool RunningAsRoot => Environment.UserName == "root";

    /// <summary>Creates the data directories, bootstraps the first node, joins the other two and creates the test user.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The cluster, three nodes Synced.</returns>
    public static async Task<PrivateGalera> StartNewAsync(CancellationToken cancellationToken = default)
    {
        if (Unavailable is { } reason)
        {
            throw new InvalidOperationException("A Galera cluster cannot run here: " + reason + ".");
        }

        // Not Directory.CreateTempSubdirectory, whose 0700 would keep the mysql user out. Short: socket paths stay under
        // 108 bytes.
        var directory = Path.Combine(Path.GetTempPath(), "ambient-galera-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var (addresses, ports) = FreeAddressesAndPorts(3, 4);
        var cluster = new PrivateGalera(
            directory,
            PrivateMariaDb.FindBinary("mariadbd")!,
            FindProvider()!,
            RunningAsRoot ? "mysql" : null,
            addresses,
            ports);
        try
        {
            await cluster.StartAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The test user's connection string naming <paramref name="nodes"/> in that order (all three when none are
    /// given), with <c>LoadBalance=FailOver</c>: every connection goes to the first node that answers.</summary>
    /// <param name="database">The default database, or <see langword="null"/> for none.</param>
    /// <param name="nodes">The nodes' indexes.</param>
    /// <returns>The connection string.</returns>
    public string ConnectionString(string? database, params int[] nodes)
    {
        var order = nodes.Length == 0 ? [.. Enumerable.Range(0, _nodes.Count)] : nodes;
        var builder = new MySqlConnectionStringBuilder
        {
            Server = string.Join(',', order.Select(i => _nodes[i].Address)),
            Port = (uint)SqlPort,
            UserID = TestUser,
            Password = Password,
            ConnectionTimeout = 5,
        };
        if (order.Length > 1)
        {
            builder.LoadBalance = MySqlLoadBalance.FailOver;
        }

        if (database is not null)
        {
            builder.Database = database;
        }

        return builder.ConnectionString;
    }

    /// <summary>The test user's connection string to one node, without a default database.</summary>
    public string ConnectionString(int node) => ConnectionString(null, node);

    /// <summary>Kills a node with SIGKILL.</summary>
    public Task KillAsync(int node) => _nodes[node].KillAsync();

    /// <summary>Starts a killed node again as systemd's unit would (recover the position, rejoin by IST) and waits until
    /// all three nodes are Synced again.</summary>
    /// <param name="node">The node's index.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the cluster has three Synced nodes.</returns>
    public async Task RestartAsync(int node, CancellationToken cancellationToken = default)
    {
        var target = _nodes[node];
        await target.KillAsync();
        var position = await target.RecoverPositionAsync(cancellationToken);
        target.Start(bootstrap: false, position);
        await WaitUntilSyncedAsync(cancellationToken);
    }

    /// <summary>Restarts every node that is not running, then waits until the three are Synced.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the cluster has three Synced nodes.</returns>
    public async Task HealAsync(CancellationToken cancellationToken = default)
    {
        foreach (var node in _nodes.Where(n => !n.IsRunning))
        {
            var position = await node.RecoverPositionAsync(cancellationToken);
            node.Start(bootstrap: false, position);
        }

        await WaitUntilSyncedAsync(cancellationToken);
    }

    /// <summary>Waits until every node is Synced in a primary component of three.</summary>
    public async Task WaitUntilSyncedAsync(CancellationToken cancellationToken = default)
    {
        foreach (var node in _nodes)
        {
            await node.WaitUntilSyncedAsync(_nodes.Count, TimeSpan.FromSeconds(120), cancellationToken);
        }
    }

    /// <summary>Waits until the running nodes see a primary component of <paramref name="size"/> nodes (a killed one
    /// evicted).</summary>
    public async Task WaitForClusterSizeAsync(int size, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            await node.WaitUntilSyncedAsync(size, timeout, cancellationToken);
        }
    }

    /// <summary>Sums a numeric status variable over the running nodes (such as <c>wsrep_local_cert_failures</c>).</summary>
    public async Task<long> SumStatusAsync(string name, CancellationToken cancellationToken = default)
    {
        long sum = 0;
        foreach (var node in _nodes.Where(n => n.IsRunning))
        {
            sum += await node.StatusNumberAsync(name, cancellationToken);
        }

        return sum;
    }

    /// <summary>Kills every node and deletes the directory.</summary>
    /// <returns>A task that completes when everything is gone.</returns>
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.KillAsync();
            node.DisposeProcess();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left in the temp directory; nothing else depends on it.
        }
        catch (UnauthorizedAccessException)
        {
            // Likewise.
        }
    }

    internal void Track(GaleraNode node, bool running)
    {
        if (running)
        {
            Running[node] = true;
        }
        else
        {
            Running.TryRemove(node, out _);
        }
    }

    internal static string Tail(string text)
    {
        var lines = text.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 40)));
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var node in _nodes)
        {
            Directory.CreateDirectory(node.DataDirectory);
        }

        if (RunAs is not null)
        {
            await RunAsync("chown", ["-R", RunAs + ":", _directory], cancellationToken);
        }

        // Only the first node needs system tables: the others receive the whole data directory by SST.
        await InstallAsync(_nodes[0], cancellationToken);
        _nodes[0].Start(bootstrap: true);
        await _nodes[0].WaitUntilSyncedAsync(1, TimeSpan.FromSeconds(60), cancellationToken);
        await CreateUserAsync(_nodes[0], cancellationToken);

        // One donor serves one joiner at a time: join one by one.
        for (var i = 1; i < _nodes.Count; i++)
        {
            _nodes[i].Start(bootstrap: false);
            await _nodes[i].WaitUntilSyncedAsync(i + 1, TimeSpan.FromSeconds(120), cancellationToken);
        }

        await WaitUntilSyncedAsync(cancellationToken);
    }

    private async Task InstallAsync(GaleraNode node, CancellationToken cancellationToken)
    {
        List<string> arguments =
        [
            "--no-defaults",
            "--datadir=" + node.DataDirectory,
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            "--innodb-log-file-size=8M",
        ];
        if (RunAs is not null)
        {
            arguments.Add("--user=" + RunAs);
        }

        await RunAsync(PrivateMariaDb.FindBinary("mariadb-install-db")!, arguments, cancellationToken);
    }

    private async Task CreateUserAsync(GaleraNode node, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(node.RootConnectionString);
        await connection.OpenAsync(cancellationToken);

        var anonymous = new List<string>();
        await using (var command = new MySqlCommand("SELECT Host FROM mysql.user WHERE User = ''", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                anonymous.Add(reader.GetString(0));
            }
        }

        var sql = new System.Text.StringBuilder();
        foreach (var host in anonymous)
        {
            // Anonymous users would shadow the test user; User@host takes literals only, and these come from the server.
            sql.Append("DROP USER IF EXISTS ''@'").Append(MySqlHelper.EscapeString(host)).Append("';\n");
        }

        // The client's source address is 127.0.0.1 whichever node address it connects to: '%' covers them all.
        sql.Append("CREATE USER '").Append(TestUser).Append("'@'%' IDENTIFIED BY @password;\n")
            .Append("GRANT ALL PRIVILEGES ON *.* TO '").Append(TestUser).Append("'@'%';\n");
        await using var setup = new MySqlCommand(sql.ToString(), connection);
        setup.Parameters.AddWithValue("@password", Password);
        await setup.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException(file + " did not start.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed with code {process.ExitCode}:\n{Tail(await output)}\n{Tail(await error)}");
        }
    }

    private static string? FindProvider() =>
        new[] { "/usr/lib/galera/libgalera_smm.so", "/usr/lib/libgalera_smm.so", "/usr/lib64/galera-4/libgalera_smm.so", "/usr/lib64/galera/libgalera_smm.so" }
            .FirstOrDefault(File.Exists);

    private static bool UserExists(string name) =>
        File.Exists("/etc/passwd") && File.ReadLines("/etc/passwd").Any(l => l.StartsWith(name + ":", StringComparison.Ordinal));

    /// <summary>
    /// Three loopback addresses 127.a.b.2–4 (a, b random, so that clusters of parallel runs do not meet) and ports free on
    /// all three of them.
    /// </summary>
    private static (string[] Addresses, int[] Ports) FreeAddressesAndPorts(int nodes, int portCount)
    {
        var a = RandomNumberGenerator.GetInt32(16, 250);
        var b = RandomNumberGenerator.GetInt32(1, 250);
        var addresses = Enumerable.Range(2, nodes).Select(d => $"127.{a}.{b}.{d}").ToArray();
        var ports = new List<int>();
        while (ports.Count < portCount)
        {
            var candidate = FreePort(IPAddress.Parse(addresses[0]));
            if (!ports.Contains(candidate) && addresses.Skip(1).All(address => IsFree(IPAddress.Parse(address), candidate)))
            {
                ports.Add(candidate);
            }
        }

        return (addresses, [.. ports]);
    }

    private static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
