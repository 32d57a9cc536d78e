using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>
/// Puts UTC times of the table into the configured zone, keeping the zone interval of the last one: consecutive rows
/// almost always share it, so a day of rows costs one lookup. One instance per enumeration (not thread-safe).
/// </summary>
internal sealed class ZoneOffsets(DateTimeZone zone)
{
    private Instant _start = Instant.MaxValue;
    private Instant _end = Instant.MinValue;
    private TimeSpan _offset;

    /// <summary>The instant of <paramref name="utc"/> with the zone's offset there.</summary>
    /// <param name="utc">A UTC time (any kind; it is taken as UTC).</param>
    /// <returns>The same instant with the zone's offset.</returns>
    public DateTimeOffset ToZoned(DateTime utc)
    {
        var instant = Instant.FromDateTimeUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
        if (instant < _start || instant >= _end)
        {
            var interval = zone.GetZoneInterval(instant);
            _start = interval.HasStart ? interval.Start : Instant.MinValue;
            _end = interval.HasEnd ? interval.End : Instant.MaxValue;
            _offset = interval.WallOffset.ToTimeSpan();
        }

        return new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Unspecified).Add(_offset), _offset);
    }
}
