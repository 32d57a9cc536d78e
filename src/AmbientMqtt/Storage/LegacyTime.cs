using NodaTime;
using NodaTime.TimeZones;

namespace AmbientMqtt.Storage;

/// <summary>The instant of a first-wave row, which kept only the wall-clock time of its zone.</summary>
internal static class LegacyTime
{
    /// <summary>The UTC time of <paramref name="local"/> in <paramref name="zone"/>: in the hour the clocks go back the
    /// earlier instant (a first-wave table kept the first reading of such an hour), in the hour they skip the instant
    /// after the gap (no reading can have such a time; another program may have written one).</summary>
    public static DateTime ToUtc(DateTime local, DateTimeZone zone)
    {
        var resolved = zone.ResolveLocal(LocalDateTime.FromDateTime(local), Resolvers.LenientResolver);
        return DateTime.SpecifyKind(resolved.ToInstant().ToDateTimeUtc(), DateTimeKind.Unspecified);
    }
}
