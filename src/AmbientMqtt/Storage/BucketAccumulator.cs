using NodaTime;

namespace AmbientMqtt.Storage;

/// <summary>
/// Merges the partial buckets the databases return (one per node, key and source: the rows before the summaries' part,
/// the summaries, the rows after) into the buckets of the answer: counts and sums add up, minima and maxima combine,
/// and the mean is the sum over the count, exactly as if the rows had been summarised in one go.
/// </summary>
internal sealed class BucketAccumulator
{
    private readonly Dictionary<(string Identifier, long Key), Totals> _buckets = [];

    /// <summary>Adds a partial bucket.</summary>
    /// <param name="identifier">The node.</param>
    /// <param name="key">The bucket key.</param>
    /// <param name="count">The rows it summarises.</param>
    /// <param name="temperature">Count of non-NULL values, sum, min and max of the temperature.</param>
    /// <param name="humidity">The same of the humidity.</param>
    /// <param name="pressure">The same of the pressure.</param>
    public void Add(string identifier, long key, long count, in Quantity temperature, in Quantity humidity, in Quantity pressure)
    {
        if (count <= 0)
        {
            return;
        }

        if (!_buckets.TryGetValue((identifier, key), out var totals))
        {
            totals = new Totals();
            _buckets.Add((identifier, key), totals);
        }

        totals.Count += count;
        totals.Temperature.Add(temperature);
        totals.Humidity.Add(humidity);
        totals.Pressure.Add(pressure);
    }

    /// <summary>The buckets, ordered by identifier (ordinally, as the databases compare them), then time.</summary>
    /// <param name="plan">The plan the keys belong to.</param>
    /// <param name="zone">The zone whose offset each start gets.</param>
    /// <returns>The buckets.</returns>
    public List<ReadingBucket> ToBuckets(BucketPlan plan, DateTimeZone zone)
    {
        var buckets = new List<ReadingBucket>(_buckets.Count);
        foreach (var ((identifier, key), totals) in _buckets.OrderBy(b => b.Key.Identifier, StringComparer.Ordinal).ThenBy(b => b.Key.Key))
        {
            var start = plan.Start(key);
            buckets.Add(new ReadingBucket(
                start.InZone(zone).ToDateTimeOffset(),
                identifier,
                totals.Count,
                totals.Temperature.Summary(),
                totals.Humidity.Summary(),
                totals.Pressure.Summary()));
        }

        return buckets;
    }

    /// <summary>Count of non-NULL values, sum, minimum and maximum of one quantity.</summary>
    internal struct Quantity
    {
        public long Count;
        public double Sum;
        public double Min;
        public double Max;

        public Quantity(long count, double sum, double min, double max)
        {
            Count = count;
            Sum = sum;
            Min = min;
            Max = max;
        }

        public void Add(in Quantity other)
        {
            if (other.Count == 0)
            {
                return;
            }

            if (Count == 0)
            {
                this = other;
                return;
            }

            Count += other.Count;
            Sum += other.Sum;
            Min = Math.Min(Min, other.Min);
            Max = Math.Max(Max, other.Max);
        }

        public readonly QuantitySummary? Summary() => Count == 0 ? null : new QuantitySummary(Min, Sum / Count, Max);
    }

    private sealed class Totals
    {
        public long Count;
        public Quantity Temperature;
        public Quantity Humidity;
        public Quantity Pressure;
    }
}
