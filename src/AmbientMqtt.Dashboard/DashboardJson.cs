using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AmbientMqtt.Dashboard;

/// <summary>The JSON of the API, written field by field (the field names are the documented contract).</summary>
internal static class DashboardJson
{
    /// <summary>Plain characters stay plain (<c>+09:00</c>, not <c>\u002B09:00</c>): the answers are
    /// <c>application/json</c> with <c>nosniff</c>, never embedded in HTML, and are read by people with curl.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Nodes(Utf8JsonWriter json, IReadOnlyList<AmbientNode> nodes, string timeZone, DateTimeOffset now, TimeSpan staleAfter)
    {
        json.WriteStartObject();
        json.WriteString("timeZone", timeZone);
        json.WriteString("now", Time(now));
        json.WriteNumber("staleAfterSeconds", staleAfter.TotalSeconds);
        json.WriteStartArray("nodes");
        foreach (var node in nodes)
        {
            var age = now - node.Latest.Timestamp;
            json.WriteStartObject();
            json.WriteString("identifier", node.Identifier);
            json.WritePropertyName("latest");
            Reading(json, node.Latest, withIdentifier: false);
            json.WriteNumber("ageSeconds", Math.Round(age.TotalSeconds, 3));
            json.WriteBoolean("stale", age > staleAfter);

            // Where known (MQTT availability, a later issue): "online" or "offline"; null until then.
            json.WriteNull("availability");
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void Buckets(Utf8JsonWriter json, ReadingBuckets buckets, string timeZone)
    {
        json.WriteStartObject();
        json.WriteString("from", Time(buckets.From));
        json.WriteString("to", Time(buckets.To));
        json.WriteString("timeZone", timeZone);
        json.WriteNumber("bucketSeconds", (long)buckets.Width.TotalSeconds);
        json.WriteBoolean("fromSummaries", buckets.FromSummaries);
        json.WriteStartArray("buckets");
        foreach (var bucket in buckets.Buckets)
        {
            json.WriteStartObject();
            json.WriteString("time", Time(bucket.Start));
            json.WriteString("identifier", bucket.Identifier);
            json.WriteNumber("count", bucket.Count);
            Quantity(json, "temperature", bucket.Temperature);
            Quantity(json, "humidity", bucket.Humidity);
            Quantity(json, "pressure", bucket.Pressure);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void Reading(Utf8JsonWriter json, in StoredReading reading, bool withIdentifier = true)
    {
        json.WriteStartObject();
        json.WriteString("timestamp", Time(reading.Timestamp));
        if (withIdentifier)
        {
            json.WriteString("identifier", reading.Identifier);
        }

        Number(json, "temperature", reading.Temperature);
        Number(json, "humidity", reading.Humidity);
        Number(json, "pressure", reading.Pressure);
        json.WriteEndObject();
    }

    public static void Error(Utf8JsonWriter json, string message, string? parameter)
    {
        json.WriteStartObject();
        json.WriteString("error", message);
        if (parameter is not null)
        {
            json.WriteString("parameter", parameter);
        }

        json.WriteEndObject();
    }

    /// <summary>ISO 8601 with the offset, microseconds when there are any.</summary>
    public static string Time(DateTimeOffset time) =>
        time.ToString(time.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy'-'MM'-'dd'T'HH':'mm':'sszzz" : "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffffzzz", CultureInfo.InvariantCulture);

    private static void Quantity(Utf8JsonWriter json, string name, QuantitySummary? summary)
    {
        if (summary is not { } value)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        json.WriteNumber("min", value.Min);
        json.WriteNumber("mean", value.Mean);
        json.WriteNumber("max", value.Max);
        json.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
