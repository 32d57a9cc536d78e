namespace AmbientMqtt.Dashboard;

/// <summary>
/// Settings of the dashboard, bound to the <c>Dashboard</c> configuration section (<c>Dashboard:Urls</c>,
/// <c>Dashboard:Password</c>, …).
/// </summary>
public sealed class DashboardOptions
{
    /// <summary>Where <see cref="DashboardServer"/> listens when <see cref="Urls"/> is not set.</summary>
    public const string DefaultUrls = "http://127.0.0.1:8080";

    /// <summary>Gets or sets whether a program that serves the dashboard by default (AmbientStation) starts it.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets where <see cref="DashboardServer"/> listens: one or more <c>http://host:port</c> separated by
    /// <c>;</c>, the host an IP address, <c>localhost</c>, or <c>*</c> / <c>0.0.0.0</c> / <c>[::]</c> for every
    /// interface. Port 0 takes a free port. Anything beyond loopback needs <see cref="Password"/>.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="DefaultUrls"/>, or a free port on 127.0.0.1 when
    /// 8080 is taken.</value>
    public string? Urls { get; set; }

    /// <summary>
    /// Gets or sets the password every request must carry (HTTP Basic authentication, any user name; a browser asks for
    /// it once). Required to listen beyond loopback.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: no password, loopback only.</value>
    public string? Password { get; set; }

    /// <summary>
    /// Gets or sets the MariaDB connection string the dashboard reads with, when it should not use the program's own:
    /// a user that may only <c>SELECT</c> (<c>GRANT SELECT ON iot_storage.* TO 'dashboard'@'localhost'</c>).
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the program's <c>Database:ConnectionString</c>.</value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets after how long without a reading the page marks a node as stale.</summary>
    /// <value>The default value is 1 minute (readings come every 5 seconds by default).</value>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how often <c>/api/live</c> looks for new rows when no ingest pipeline in the same process
    /// announces them (a dashboard in a program of its own).</summary>
    /// <value>The default value is 5 seconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the settings; each problem names its configuration key.</summary>
    /// <param name="section">The configuration section the options were bound from, used in the messages.</param>
    /// <returns>The problems found; empty when the settings are usable.</returns>
    public IReadOnlyList<string> Validate(string section = "Dashboard")
    {
        var errors = new List<string>();
        var beyondLoopback = new List<string>();
        if (Urls is not null)
        {
            var urls = Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (urls.Length == 0)
            {
                errors.Add($"{section}:Urls: is empty; leave it out for {DefaultUrls}");
            }

            foreach (var url in urls)
            {
                if (!ListenAddress.TryParse(url, out var address, out var problem))
                {
                    errors.Add($"{section}:Urls: '{url}' {problem}");
                }
                else if (!address.IsLoopback)
                {
                    beyondLoopback.Add(url);
                }
            }
        }

        if (Password is { Length: 0 })
        {
            errors.Add($"{section}:Password: is empty; leave it out to serve loopback only");
        }

        if (beyondLoopback.Count > 0 && string.IsNullOrEmpty(Password))
        {
            errors.Add($"{section}:Password: must be set to serve the dashboard beyond loopback ({section}:Urls has {string.Join(", ", beyondLoopback)}); set one, or listen on 127.0.0.1");
        }

        if (ConnectionString is not null)
        {
            try
            {
                _ = new MySqlConnector.MySqlConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException ex)
            {
                // The message names the bad keyword, never the password.
                errors.Add($"{section}:ConnectionString: {ex.Message}");
            }
        }

        if (StaleAfter <= TimeSpan.Zero)
        {
            errors.Add($"{section}:StaleAfter: must be positive (got {StaleAfter})");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(100) || PollInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{section}:PollInterval: must lie between 00:00:00.1 and 01:00:00 (got {PollInterval})");
        }

        return errors;
    }

    /// <summary>The addresses to listen on.</summary>
    internal IReadOnlyList<ListenAddress> Addresses(string defaultUrls = DefaultUrls) =>
        (Urls ?? defaultUrls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(u => ListenAddress.TryParse(u, out var a, out var problem) ? a : throw new ArgumentException($"Dashboard:Urls: '{u}' {problem}"))
            .ToList();
}
