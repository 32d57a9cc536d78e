using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace AmbientMqtt.Dashboard;

/// <summary>
/// The query parameters of the API, checked one by one: each problem is a <see cref="BadParameterException"/> naming
/// the parameter. Nothing here reaches SQL as text: the values go on as typed arguments of the reader.
/// </summary>
internal static partial class QueryParameters
{
    /// <summary>Buckets per node when <c>points</c> is not given.</summary>
    public const int DefaultPoints = 1000;

    /// <summary>Refuses parameters the endpoint does not know (a typo would otherwise be ignored silently) and any given
    /// twice.</summary>
    public static void Only(IQueryCollection query, params string[] known)
    {
        foreach (var (key, values) in query)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                var expected = known.Length == 0 ? "this request takes no parameters" : "known parameters: " + string.Join(", ", known);
                throw new BadParameterException(Shorten(key), $"is not a parameter of this request ({expected})");
            }

            if (values.Count > 1)
            {
                throw new BadParameterException(key, "is given more than once");
            }
        }
    }

    /// <summary>A required instant: ISO 8601 with an offset (<c>Z</c>, <c>+09:00</c>).</summary>
    public static DateTimeOffset Instant(IQueryCollection query, string name)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            throw new BadParameterException(name, query.ContainsKey(name) ? "is empty; give an ISO 8601 instant with an offset, such as 2024-10-08T00:00:00+09:00 or 2024-10-07T15:00:00Z" : "is missing; give an ISO 8601 instant with an offset, such as 2024-10-08T00:00:00+09:00 or 2024-10-07T15:00:00Z");
        }

        // A '+' written as such in a URL arrives as a space ("…T00:00:00 09:00"): take it for what was meant.
        var value = SpaceForPlus().Replace(text.Trim(), "+$1");
        if (!InstantPattern().IsMatch(value))
        {
            throw new BadParameterException(name, $"'{Shorten(text)}' is not an ISO 8601 instant with an offset, such as 2024-10-08T00:00:00+09:00 or 2024-10-07T15:00:00Z (write + as %2B in a URL)");
        }

        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            throw new BadParameterException(name, $"'{Shorten(text)}' is not a valid date and time");
        }

        if (instant.UtcDateTime.Year is < 2 or > 9998)
        {
            throw new BadParameterException(name, $"'{Shorten(text)}' is outside the years 2 to 9998");
        }

        return instant;
    }

    /// <summary>An optional node identifier.</summary>
    public static string? Node(IQueryCollection query)
    {
        if (!query.TryGetValue("node", out var values))
        {
            return null;
        }

        var node = values.ToString();
        if (node.Length == 0)
        {
            throw new BadParameterException("node", "is empty; leave it out for every node");
        }

        if (node.EnumerateRunes().Count() > AmbientPayload.MaxIdentifierLength)
        {
            throw new BadParameterException("node", $"is longer than {AmbientPayload.MaxIdentifierLength} characters, the longest identifier a table holds");
        }

        return node;
    }

    /// <summary>The optional bucket count.</summary>
    public static int Points(IQueryCollection query)
    {
        if (!query.TryGetValue("points", out var values))
        {
            return DefaultPoints;
        }

        var text = values.ToString();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var points) || points is < 1 or > ReadingBuckets.MaxPoints)
        {
            throw new BadParameterException("points", $"'{Shorten(text)}' is not a whole number from 1 to {ReadingBuckets.MaxPoints}");
        }

        return points;
    }

    /// <summary>The range; <c>to</c> must be later than <c>from</c>.</summary>
    public static (DateTimeOffset From, DateTimeOffset To) Range(IQueryCollection query)
    {
        var from = Instant(query, "from");
        var to = Instant(query, "to");
        if (to <= from)
        {
            throw new BadParameterException("to", $"must be later than from ({query["to"]} is not after {query["from"]})");
        }

        return (from, to);
    }

    /// <summary>Echoes at most 80 characters of what a client sent.</summary>
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|z|[+-]\d{2}:\d{2}|[+-]\d{4})\z", RegexOptions.CultureInvariant)]
    private static partial Regex InstantPattern();

    [GeneratedRegex(@"(?<=\d) (\d{2}:?\d{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex SpaceForPlus();
}
