namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// How the integration tests find their servers.
/// <list type="bullet">
/// <item><c>AMBIENT_TEST_MARIADB</c>: a connection string to a running (private, throwaway) MariaDB server whose user may
/// CREATE DATABASE. The project's <c>test.sh</c> sets it after starting one.</item>
/// <item>Otherwise, when <c>mariadbd</c> is installed, the tests start a private server of their own
/// (<see cref="PrivateMariaDb"/>).</item>
/// <item>Otherwise the server tests are skipped with the reason, except under <c>CI=true</c>, where a missing server is
/// a failure.</item>
/// </list>
/// </summary>
internal static class ServerEnvironment
{
    /// <summary>The variable that names a running MariaDB server.</summary>
    public const string MariaDbVariable = "AMBIENT_TEST_MARIADB";

    /// <summary>Gets the connection string from <c>AMBIENT_TEST_MARIADB</c>, if set.</summary>
    public static string? MariaDbConnectionString =>
        Environment.GetEnvironmentVariable(MariaDbVariable) is { Length: > 0 } value ? value : null;

    /// <summary>Gets a value indicating whether the run is a CI run (<c>CI=true</c>), where nothing may be skipped.</summary>
    public static bool IsCI => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the current test with <paramref name="reason"/>, or fails it under <c>CI=true</c>.</summary>
    /// <param name="reason">Why the test cannot run.</param>
    public static void SkipOrFail(string reason)
    {
        if (IsCI)
        {
            throw new InvalidOperationException($"{reason} (CI=true, so a missing server is a failure, not a skip)");
        }

        Assert.Skip(reason);
    }

    /// <summary>Skips or fails the current test unless a private MariaDB server can be started here.</summary>
    public static void RequirePrivateMariaDb()
    {
        if (!PrivateMariaDb.IsInstalled)
        {
            SkipOrFail("This test stops and restarts a private MariaDB server, which needs mariadbd and mariadb-install-db (Debian package mariadb-server); neither was found in PATH, /usr/sbin or /usr/bin.");
        }
    }
}
