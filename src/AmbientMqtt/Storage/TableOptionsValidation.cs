using System.Text.RegularExpressions;
using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>
/// The checks every repository's options share (table name, time zone, identifier, dead-letter prefix), with messages
/// that name the configuration key, so that a bad setting reads the same whichever database is configured.
/// </summary>
internal static partial class TableOptionsValidation
{
    /// <summary>A letter or underscore, then up to 54 letters, digits or underscores, so that <c>&lt;Table&gt;_rejected</c>
    /// stays within MariaDB's 64 characters. <c>\z</c>, not <c>$</c>: "$" would let a trailing newline through.</summary>
    public const string TableNamePattern = @"^[A-Za-z_][A-Za-z0-9_]{0,54}\z";

    /// <summary>The largest number of payload bytes the dead-letter table keeps (1 MiB).</summary>
    public const int MaxRejectedPayloadBytesLimit = 1024 * 1024;

    /// <summary>Adds a line to <paramref name="errors"/> for each setting that is wrong.</summary>
    public static void Validate(List<string> errors, string section, string? table, string? timeZone, string? identifier, int maxRejectedPayloadBytes)
    {
        if (table is null || !TableNameRegex().IsMatch(table))
        {
            errors.Add($"{section}:Table: '{table}' is not allowed: it must be a letter or underscore followed by at most 54 letters, digits or underscores (no spaces, quotes, backticks or punctuation)");
        }

        if (string.IsNullOrWhiteSpace(timeZone) || DateTimeZoneProviders.Tzdb.GetZoneOrNull(timeZone) is null)
        {
            errors.Add($"{section}:TimeZone: '{timeZone}' is not a known time zone; use an IANA id such as Asia/Tokyo or Europe/Berlin, or UTC");
        }

        var identifierProblem = identifier is null ? "is missing" : AmbientPayload.CheckIdentifier(identifier);
        if (identifierProblem is not null)
        {
            errors.Add($"Identifier: {identifierProblem.Replace("field 'identifier': ", string.Empty, StringComparison.Ordinal)}");
        }

        if (maxRejectedPayloadBytes is < 0 or > MaxRejectedPayloadBytesLimit)
        {
            errors.Add($"{section}:MaxRejectedPayloadBytes: must lie between 0 and {MaxRejectedPayloadBytesLimit} (got {maxRejectedPayloadBytes})");
        }
    }

    [GeneratedRegex(TableNamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex TableNameRegex();
}
