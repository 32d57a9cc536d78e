using System.Globalization;
using MySqlConnector;

namespace AmbientMqtt.Storage;

/// <summary>
/// Names the server a connection string points at, for messages and log lines, without the user's secrets.
/// </summary>
internal static class MariaDbEndpoint
{
    /// <summary>Describes a connection string as <c>host:port/database</c> (or <c>socket /path/database</c>).</summary>
    /// <param name="connectionString">A MySqlConnector connection string.</param>
    /// <returns>The server and database, never the user's password.</returns>
    public static string Describe(string? connectionString)
    {
        MySqlConnectionStringBuilder builder;
        try
        {
            builder = new MySqlConnectionStringBuilder(connectionString ?? string.Empty);
        }
        catch (ArgumentException)
        {
            // Never echo an unparsable connection string: it may hold the password in plain text.
            return "the MariaDB server (unparsable connection string)";
        }

        var server = string.IsNullOrWhiteSpace(builder.Server) ? "localhost" : builder.Server;
        string where;
        if (builder.ConnectionProtocol is MySqlConnectionProtocol.UnixSocket || server.StartsWith('/'))
        {
            where = "socket " + server;
        }
        else
        {
            var port = builder.Port.ToString(CultureInfo.InvariantCulture);
            where = string.Join(
                ',',
                server.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(host => (host.Contains(':', StringComparison.Ordinal) ? "[" + host + "]" : host) + ":" + port));
        }

        return string.IsNullOrEmpty(builder.Database) ? where : where + "/" + builder.Database;
    }

    /// <summary>Gets the password a connection string carries, so messages can be scrubbed of it.</summary>
    /// <param name="connectionString">A MySqlConnector connection string.</param>
    /// <returns>The password, or <see langword="null"/> when there is none.</returns>
    public static string? Password(string? connectionString)
    {
        try
        {
            var password = new MySqlConnectionStringBuilder(connectionString ?? string.Empty).Password;
            return string.IsNullOrEmpty(password) ? null : password;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
