using System.Diagnostics;
using System.Globalization;
using MySqlConnector;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// One mariadbd of a <see cref="PrivateGalera"/> cluster: its own loopback address (all nodes share the SQL port, so a
/// MySqlConnector connection string can name the three of them), its own data directory, and the Galera replication, IST
/// and SST ports on that address. Started, killed (SIGKILL) and restarted by the cluster.
/// </summary>
internal sealed class GaleraNode
{
    private readonly PrivateGalera _cluster;
    private Process? _process;

    public GaleraNode(PrivateGalera cluster, int index, string address, string directory)
    {
        _cluster = cluster;
        Index = index;
        Address = address;
        Directory = directory;
    }

    /// <summary>Gets the node's number in the cluster, from 0 (the one that bootstraps it).</summary>
    public int Index { get; }

    /// <summary>Gets the loopback address the node listens on for SQL, replication and state transfer.</summary>
    public string Address { get; }

    /// <summary>Gets the node's private directory (data, socket, logs).</summary>
    public string Directory { get; }

    /// <summary>Gets a value indicating whether the node's process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Gets the process id of mariadbd, while it runs.</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Gets the Galera address of the node (<c>address:port</c>), as the others' cluster address names it.</summary>
    public string ReplicationAddress => $"{Address}:{_cluster.ReplicationPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Gets the test user's connection string to this node alone.</summary>
    public string ConnectionString => _cluster.ConnectionString(Index);

    /// <summary>Gets the server's error log, for a failure message.</summary>
    public string ErrorLog => File.Exists(ErrorLogPath) ? File.ReadAllText(ErrorLogPath) : "(no error log)";

    /// <summary>Gets the node's name in the cluster (<c>wsrep_node_name</c>).</summary>
    public string Name => "node" + (Index + 1).ToString(CultureInfo.InvariantCulture);

    internal string DataDirectory => Path.Combine(Directory, "data");

    internal string SocketPath => Path.Combine(Directory, "mysql.sock");

    private string ErrorLogPath => Path.Combine(Directory, "error.log");

    private string RecoveryLogPath => Path.Combine(Directory, "recover.log");

    // root has no password and is reachable only through the socket file, which lives in the private directory.
    internal string RootConnectionString => new MySqlConnectionStringBuilder
    {
        Server = SocketPath,
        ConnectionProtocol = MySqlConnectionProtocol.UnixSocket,
        UserID = "root",
        Pooling = false,
        ConnectionTimeout = 2,
        DefaultCommandTimeout = 30,
    }.ConnectionString;

    /// <summary>
    /// Starts mariadbd. <paramref name="bootstrap"/> forms a new cluster (<c>gcomm://</c>); otherwise the node joins the
    /// others, by IST from <paramref name="startPosition"/> when it has one, else by a full SST (rsync). Returns once the
    /// process runs; <see cref="WaitUntilSyncedAsync"/> waits for it to serve.
    /// </summary>
    public void Start(bool bootstrap, string? startPosition = null)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} is already running.");
        }

        var arguments = ServerArguments(bootstrap).ToList();
        if (startPosition is not null)
        {
            arguments.Add("--wsrep-start-position=" + startPosition);
        }

        _process = StartProcess(arguments);
        _cluster.Track(this, running: true);
    }

    /// <summary>
    /// What the Debian unit's <c>galera_recovery</c> does before a start after a crash: runs mariadbd with
    /// <c>--wsrep-recover</c> to read the last committed position from InnoDB, so the node asks for the writesets it missed
    /// (IST) instead of a copy of the whole data directory (SST). A crashed node's <c>grastate.dat</c> says seqno -1.
    /// </summary>
    /// <returns>The position (<c>uuid:seqno</c>), or <see langword="null"/> when it could not be recovered.</returns>
    public async Task<string?> RecoverPositionAsync(CancellationToken cancellationToken)
    {
        File.Delete(RecoveryLogPath);
        var arguments = ServerArguments(bootstrap: false).ToList();
        arguments.Add("--wsrep-recover");
        arguments.Add("--log-error=" + RecoveryLogPath);
        using var process = StartProcess(arguments);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (!File.Exists(RecoveryLogPath))
        {
            return null;
        }

        const string Marker = "WSREP: Recovered position: ";
        var line = File.ReadLines(RecoveryLogPath).LastOrDefault(l => l.Contains(Marker, StringComparison.Ordinal));
        var position = line?[(line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..].Trim();
        return string.IsNullOrEmpty(position) || position.EndsWith(":-1", StringComparison.Ordinal) ? null : position;
    }

    /// <summary>Kills mariadbd with SIGKILL (and an SST helper it may have started), as a power cut or an OOM kill would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _cluster.Track(this, running: false);
    }

    /// <summary>Waits until the node is Synced, ready, and sees a primary component of <paramref name="clusterSize"/> nodes.</summary>
    public async Task WaitUntilSyncedAsync(int clusterSize, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var last = "not started";
        while (true)
        {
            if (_process is not { HasExited: false })
            {
                throw new InvalidOperationException($"{Name} exited while joining ({last}). Error log:\n{PrivateGalera.Tail(ErrorLog)}");
            }

            try
            {
                var status = await StatusAsync(cancellationToken, "wsrep_local_state_comment", "wsrep_cluster_size", "wsrep_ready", "wsrep_cluster_status");
                last = string.Join(", ", status.Select(s => $"{s.Key}={s.Value}"));
                if (status.GetValueOrDefault("wsrep_local_state_comment") == "Synced"
                    && status.GetValueOrDefault("wsrep_ready") == "ON"
                    && status.GetValueOrDefault("wsrep_cluster_status") == "Primary"
                    && status.GetValueOrDefault("wsrep_cluster_size") == clusterSize.ToString(CultureInfo.InvariantCulture))
                {
                    return;
                }
            }
            catch (MySqlException ex)
            {
                last = ex.Message;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} was not Synced in a cluster of {clusterSize} within {timeout} ({last}). Error log:\n{PrivateGalera.Tail(ErrorLog)}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Reads status variables (<c>SHOW GLOBAL STATUS</c>) as root through the node's socket.</summary>
    public async Task<Dictionary<string, string>> StatusAsync(CancellationToken cancellationToken, params string[] names)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(
            "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ("
            + string.Join(',', names.Select((_, i) => "@n" + i.ToString(CultureInfo.InvariantCulture))) + ")",
            connection);
        for (var i = 0; i < names.Length; i++)
        {
            command.Parameters.AddWithValue("@n" + i.ToString(CultureInfo.InvariantCulture), names[i].ToUpperInvariant());
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            values[reader.GetString(0)] = reader.GetString(1);
        }

        return values;
    }

    /// <summary>Reads one numeric status variable.</summary>
    public async Task<long> StatusNumberAsync(string name, CancellationToken cancellationToken)
    {
        var status = await StatusAsync(cancellationToken, name);
        return long.Parse(status[name], CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a statement as root through the node's socket.</summary>
    public async Task ExecuteAsRootAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(RootConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Kills the process at once, without waiting; for the test process's exit.</summary>
    internal void KillNow()
    {
        try
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    internal void DisposeProcess() => _process?.Dispose();

    private Process StartProcess(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(_cluster.Mariadbd)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("mariadbd did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private IEnumerable<string> ServerArguments(bool bootstrap)
    {
        var sqlPort = _cluster.SqlPort.ToString(CultureInfo.InvariantCulture);
        var replicationPort = _cluster.ReplicationPort.ToString(CultureInfo.InvariantCulture);

        // Never the machine's option files: everything the node needs is here.
        yield return "--no-defaults";
        yield return "--datadir=" + DataDirectory;
        yield return "--socket=" + SocketPath;
        yield return "--port=" + sqlPort;
        yield return "--bind-address=" + Address;
        yield return "--pid-file=" + Path.Combine(Directory, "mariadbd.pid");
        yield return "--log-error=" + ErrorLogPath;
        if (_cluster.RunAs is { } user)
        {
            yield return "--user=" + user;
        }

        yield return "--skip-name-resolve";
        yield return "--innodb-buffer-pool-size=64M";
        yield return "--innodb-log-file-size=8M";
        yield return "--character-set-server=utf8mb4";
        yield return "--collation-server=utf8mb4_general_ci";
        yield return "--max-connections=500";

        // What Galera requires of every node.
        yield return "--binlog-format=ROW";
        yield return "--default-storage-engine=InnoDB";
        yield return "--innodb-autoinc-lock-mode=2";
        yield return "--wsrep-on=ON";
        yield return "--wsrep-provider=" + _cluster.Provider;
        yield return "--wsrep-cluster-name=" + _cluster.Name;
        yield return "--wsrep-cluster-address=gcomm://" + (bootstrap ? string.Empty : string.Join(',', _cluster.Nodes.Select(n => n.ReplicationAddress)));
        yield return "--wsrep-node-name=" + Name;
        yield return "--wsrep-node-address=" + ReplicationAddress;

        // rsync needs only Debian's rsync package (a dependency of mariadb-server), and it is the fastest on a small data
        // directory; its daemon listens on this port of the joiner.
        yield return "--wsrep-sst-method=rsync";
        yield return "--wsrep-sst-receive-address=" + Address + ":" + _cluster.SstPort.ToString(CultureInfo.InvariantCulture);

        // The replication and IST listeners on the node's own address. Failure detection is quicker than the defaults
        // (suspect 5 s, inactive 15 s): while a killed member is not yet evicted, commits on the others wait for it, and
        // the tests kill members. A small gcache keeps the data directory small and still holds every writeset a test's
        // restarted node missed, so it rejoins by IST.
        yield return "--wsrep-provider-options="
            + $"base_host={Address};base_port={replicationPort};gmcast.listen_addr=tcp://{Address}:{replicationPort};"
            + $"ist.recv_addr={Address}:{_cluster.IstPort.ToString(CultureInfo.InvariantCulture)};"
            + "gcache.size=64M;evs.suspect_timeout=PT3S;evs.inactive_timeout=PT6S;evs.install_timeout=PT6S";
    }
}
