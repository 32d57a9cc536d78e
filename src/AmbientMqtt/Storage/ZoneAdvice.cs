using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>What a zone's clock changes mean for a key on local wall-clock time, in words for a log line.</summary>
internal static class ZoneAdvice
{
    /// <summary>Whether the wall-clock time of <paramref name="zoneId"/> repeats (clocks go back) within the ten years
    /// around now, so that two instants have the same local time.</summary>
    public static bool Repeats(string zoneId)
    {
        var zone = DateTimeZoneProviders.Tzdb[zoneId];
        var now = SystemClock.Instance.GetCurrentInstant();
        foreach (var interval in zone.GetZoneIntervals(now - Duration.FromDays(5 * 365), now + Duration.FromDays(5 * 365)))
        {
            if (interval.HasStart && interval.Start > now - Duration.FromDays(5 * 365)
                && zone.GetUtcOffset(interval.Start - Duration.FromSeconds(1)) > interval.WallOffset)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The sentence for the start-up line about a table keyed on local time.</summary>
    public static string Collisions(string zoneId) => Repeats(zoneId)
        ? $"in {zoneId} the clocks go back once a year, and the readings of the repeated hour collide with those of the hour before: all but the first are taken for redeliveries and lost"
        : $"{zoneId} has no clock changes now, so no readings collide today, but they would after a change of Database:TimeZone or of the zone's rules";
}
