using Microsoft.Extensions.Options;
using MySqlConnector;

namespace AmbientMqtt.Hosting;

/// <summary>Checks <c>Database:ConnectionString</c>'s syntax (whether the server takes it shows when the schema is
/// prepared); the message names the bad keyword, never the password.</summary>
internal sealed class MariaDbConnectionOptionsValidator : IValidateOptions<MariaDbConnectionOptions>
{
    public ValidateOptionsResult Validate(string? name, MariaDbConnectionOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return ValidateOptionsResult.Fail("Database:ConnectionString: is empty; set it to the MariaDB server, database, user and password (Server=…;Database=…;User ID=…;Password=…)");
        }

        try
        {
            var builder = new MySqlConnectionStringBuilder(options.ConnectionString);
            if (string.IsNullOrEmpty(builder.Database))
            {
                return ValidateOptionsResult.Fail("Database:ConnectionString: names no database; add Database=iot_storage (or yours)");
            }
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"Database:ConnectionString: {ex.Message}");
        }

        return ValidateOptionsResult.Success;
    }
}
