using NodaTime;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>Payloads of readings stamped with the moment each is taken from the sequence (lazily, as the publisher asks
/// for the next), so that a stored row tells how long its reading waited between publish and commit.</summary>
internal static class StandbyReadings
{
    /// <param name="count">How many.</param>
    /// <param name="taken">Called as each is taken, for the caller to count what has been published.</param>
    public static IEnumerable<byte[]> Now(int count, Func<int> taken)
    {
        var last = Instant.MinValue;
        for (var i = 0; i < count; i++)
        {
            // Microseconds apart at least: the table keeps microseconds, and two readings of one node are two rows.
            var now = SystemClock.Instance.GetCurrentInstant();
            now = now > last + Duration.FromTicks(10) ? now : last + Duration.FromTicks(10);
            last = now;
            taken();
            yield return AmbientPayload.Encode(new AmbientReading(Instant.FromUnixTimeTicks(now.ToUnixTimeTicks() / 10 * 10), 20 + (i % 700) / 100.0, 50, 1000));
        }
    }
}
