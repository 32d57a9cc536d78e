namespace AmbientMqtt.Storage;

/// <summary>
/// One node's readings of one 5-minute bucket, as the summary table <c>&lt;Table&gt;_5m</c> holds them: how many, and
/// the sum, minimum and maximum of each quantity, over the values as stored (rounded). A batch adds its newly inserted
/// rows to the summaries in the same transaction, so the two never disagree.
/// </summary>
internal readonly record struct SummaryRow(
    string Identifier,
    DateTime BucketUtc,
    int Readings,
    double TemperatureSum,
    double TemperatureMin,
    double TemperatureMax,
    double HumiditySum,
    double HumidityMin,
    double HumidityMax,
    double PressureSum,
    double PressureMin,
    double PressureMax)
{
    /// <summary>The width of a bucket.</summary>
    public const int BucketSeconds = 300;

    /// <summary>The summaries of the rows of a batch that were newly inserted, one per node and bucket.</summary>
    public static List<SummaryRow> Of(PendingRow[] rows)
    {
        var summaries = new List<SummaryRow>(1);
        for (var i = 0; i < rows.Length; i++)
        {
            ref readonly var row = ref rows[i];
            if (row.Outcome != RowOutcome.Inserted)
            {
                continue;
            }

            var bucket = Bucket(row.Utc);
            var identifier = row.Identifier;

            // A batch is nearly always one node and one or two buckets: a linear search beats a dictionary here.
            var k = summaries.FindIndex(s => s.BucketUtc == bucket && string.Equals(s.Identifier, identifier, StringComparison.Ordinal));
            if (k < 0)
            {
                summaries.Add(new SummaryRow(
                    row.Identifier, bucket, 1,
                    row.Temperature, row.Temperature, row.Temperature,
                    row.Humidity, row.Humidity, row.Humidity,
                    row.Pressure, row.Pressure, row.Pressure));
                continue;
            }

            var s = summaries[k];
            summaries[k] = s with
            {
                Readings = s.Readings + 1,
                TemperatureSum = s.TemperatureSum + row.Temperature,
                TemperatureMin = Math.Min(s.TemperatureMin, row.Temperature),
                TemperatureMax = Math.Max(s.TemperatureMax, row.Temperature),
                HumiditySum = s.HumiditySum + row.Humidity,
                HumidityMin = Math.Min(s.HumidityMin, row.Humidity),
                HumidityMax = Math.Max(s.HumidityMax, row.Humidity),
                PressureSum = s.PressureSum + row.Pressure,
                PressureMin = Math.Min(s.PressureMin, row.Pressure),
                PressureMax = Math.Max(s.PressureMax, row.Pressure),
            };
        }

        return summaries;
    }

    /// <summary>The start of the 5-minute bucket that holds <paramref name="utc"/>.</summary>
    public static DateTime Bucket(DateTime utc)
    {
        const long width = BucketSeconds * TimeSpan.TicksPerSecond;
        return new DateTime(utc.Ticks - (utc.Ticks % width), DateTimeKind.Unspecified);
    }
}
