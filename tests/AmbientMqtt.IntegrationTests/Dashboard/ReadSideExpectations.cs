using NodaTime;

namespace AmbientMqtt.IntegrationTests.Dashboard;

/// <summary>Comparisons of what the read side answers with what SQL computed from the rows.</summary>
internal static class ReadSideExpectations
{
    /// <summary>The rows every read-side test writes: three nodes (two that differ only in case, one whose name needs
    /// CSV quoting) every 40 s across the night Europe/Berlin falls back from CEST to CET (2024-10-27, 03:00 → 02:00),
    /// node-a silent for 50 minutes.</summary>
    public static readonly string[] Nodes = ["node-a", "Node-A", "nöde,\"c\""];

    public static readonly Instant DataFrom = Instant.FromUtc(2024, 10, 26, 20, 0);

    public static List<TestRow> Rows() => ReadSideStore.Generate(
        DataFrom,
        Duration.FromHours(10),
        Duration.FromSeconds(40),
        Nodes,
        ("node-a", Instant.FromUtc(2024, 10, 26, 23, 0), Instant.FromUtc(2024, 10, 26, 23, 50)));

    /// <summary>The zone's offset at an instant, in seconds: how buckets are aligned.</summary>
    public static long OffsetAt(string zone, Instant instant) => DateTimeZoneProviders.Tzdb[zone].GetUtcOffset(instant).Seconds;

    public static void ShouldMatch(IReadOnlyList<(string Identifier, DateTimeOffset Start, long Count, QuantitySummary? T, QuantitySummary? H, QuantitySummary? P)> actual, IReadOnlyList<ExpectedBucket> expected, string zone)
    {
        var ordered = expected.OrderBy(e => e.Identifier, StringComparer.Ordinal).ThenBy(e => e.Start).ToList();
        expected.Should().NotBeEmpty("the range holds rows");
        actual.Select(a => (a.Identifier, a.Start.ToUnixTimeSeconds(), a.Count))
            .Should().Equal(ordered.Select(e => (e.Identifier, e.Start, e.Count)));
        for (var i = 0; i < actual.Count; i++)
        {
            var a = actual[i];
            var e = ordered[i];
            a.Start.Offset.Should().Be(TimeSpan.FromSeconds(OffsetAt(zone, Instant.FromUnixTimeSeconds(e.Start))), "a bucket's start carries the zone's offset at that instant");
            Check(a.T, e.Values, 0, $"{e.Identifier} {a.Start:O} temperature");
            Check(a.H, e.Values, 3, $"{e.Identifier} {a.Start:O} humidity");
            Check(a.P, e.Values, 6, $"{e.Identifier} {a.Start:O} pressure");
        }
    }

    public static void ShouldMatch(IReadOnlyList<ReadingBucket> actual, IReadOnlyList<ExpectedBucket> expected, string zone) =>
        ShouldMatch(actual.Select(b => (b.Identifier, b.Start, b.Count, b.Temperature, b.Humidity, b.Pressure)).ToList(), expected, zone);

    private static void Check(QuantitySummary? actual, double[] expected, int offset, string what)
    {
        actual.Should().NotBeNull(what);
        var value = actual!.Value;
        value.Min.Should().Be(expected[offset], what + " min");
        value.Mean.Should().BeApproximately(expected[offset + 1], Math.Abs(expected[offset + 1]) * 1e-12, what + " mean");
        value.Max.Should().Be(expected[offset + 2], what + " max");
    }
}
