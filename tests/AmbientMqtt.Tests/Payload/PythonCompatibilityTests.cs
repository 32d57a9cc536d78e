using System.Diagnostics;
using System.Globalization;
using System.Text;
using NodaTime;

namespace AmbientMqtt.Tests.Payload;

/// <summary>
/// The tutorial's own Python reads what we write, and we read what it writes: checked with a real CPython running
/// json and dateutil, the modules the tutorial's subscriber uses.
/// </summary>
public sealed class PythonCompatibilityTests
{
    [Fact]
    public async Task PythonSubscriber_ReadsOurPayloads_ToTheSameValues()
    {
        var python = FindPythonWithDateutil();
        var readings = new[]
        {
            new AmbientReading(Instant.FromUtc(2024, 10, 7, 23, 54, 50).PlusNanoseconds(547_143_000), 26.72680231416598, 57.53434981211512, 997.8079720341007),
            new AmbientReading(Instant.FromUtc(2025, 1, 1, 0, 0), -12.5, 0.0, 1013.25, "tochigi_iot_899"),
            new AmbientReading(Instant.FromUtc(2030, 6, 30, 12, 0, 1).PlusNanoseconds(1_000), 0.1 + 0.2, 99.99999999999999, 300.00000000000006, "ノード\"1\""),
            new AmbientReading(Instant.FromUtc(2024, 10, 9, 6, 30, 59).PlusNanoseconds(927_507_000), 25.87, 45.86, 996.93, "tochigi_iot_899", 1204),
            new AmbientReading(Instant.FromUtc(1, 1, 1, 0, 0), 1e-05, 25.0, 1100.0, Sequence: long.MaxValue),
        };
        var input = string.Join('\n', readings.Select(r => AmbientPayload.EncodeToString(r))) + "\n";

        // What mqtt_ambient_sub.py's on_message does with each message (which ignores identifier and seq), then each
        // value printed with repr(), and the two extra fields as json read them.
        const string Script = """
            import sys, json
            from datetime import timezone, timedelta
            from dateutil import parser
            JST = timezone(timedelta(hours=9))  # pytz's Asia/Tokyo, +09:00 since 1951
            for line in sys.stdin:
                json_msg = json.loads(line.encode('utf-8'))
                ts = json_msg['timestamp']
                new_data = {'timestamp': parser.parse(ts).astimezone(JST), 'temperature': json_msg['temperature'], 'humidity': json_msg['humidity'], 'pressure': json_msg['pressure']}
                utc = parser.parse(ts)
                print(utc.utcoffset().total_seconds(), utc.replace(tzinfo=None).isoformat(timespec='microseconds'), repr(new_data['temperature']), repr(new_data['humidity']), repr(new_data['pressure']), json_msg.get('identifier'), repr(json_msg.get('seq')), sep='|')
            """;
        var output = await RunAsync(python, Script, input);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(readings.Length);
        for (var i = 0; i < readings.Length; i++)
        {
            var fields = lines[i].Split('|');
            fields[0].Should().Be("0.0", "the offset is +00:00");
            fields[1].Should().Be(readings[i].Timestamp.ToDateTimeUtc().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture));
            double.Parse(fields[2], CultureInfo.InvariantCulture).Should().Be(readings[i].Temperature);
            double.Parse(fields[3], CultureInfo.InvariantCulture).Should().Be(readings[i].Humidity);
            double.Parse(fields[4], CultureInfo.InvariantCulture).Should().Be(readings[i].Pressure);
            fields[5].Should().Be(readings[i].Identifier ?? "None");
            fields[6].Should().Be(readings[i].Sequence?.ToString(CultureInfo.InvariantCulture) ?? "None", "json reads seq as a Python int");
        }
    }

    /// <summary>Edge payloads, read by the tutorial's subscriber (json.loads of the bytes, the four fields, dateutil,
    /// the conversion to Japan's time) and by ours: where both agree, and the few places they differ on purpose.</summary>
    public static readonly TheoryData<string, bool, bool> EdgePayloads = new()
    {
        // A byte order mark: json.loads skips it when given bytes, and so do we.
        { "\uFEFF" + Reading("\"2024-10-07T23:54:50Z\"", string.Empty), true, true },

        // An extra field nested 511 levels deep: both read the reading.
        { Reading("\"2024-10-07T23:54:50Z\"", $", \"note\": {new string('[', 511)}{new string(']', 511)}"), true, true },

        // 100,000 '[': CPython's json gives up with RecursionError, we at 512 levels.
        { Reading("\"2024-10-07T23:54:50Z\"", $", \"note\": {new string('[', 100_000)}{new string(']', 100_000)}"), false, false },

        // Lone surrogates in an extra field's name and value: ignored by both.
        { Reading("\"2024-10-07T23:54:50Z\"", ", \"\\udc00x\": \"\\ud800\""), true, true },

        // seq that is not a count, and identifier with seq: both keep the reading.
        { Reading("\"2024-10-07T23:54:50Z\"", ", \"identifier\": \"node-7\", \"seq\": 1.5"), true, true },
        { Reading("\"2024-10-07T23:54:50Z\"", ", \"seq\": \"7\""), true, true },
        { Reading("\"2024-10-07T23:54:50Z\"", ", \"seq\": -1"), true, true },

        // The first and last instants both accept (Python's astimezone(JST) of 9999-12-31T23:59:59Z overflows: its
        // subscriber cannot place the very last hours of year 9999 in Japan, our table can keep them in UTC).
        { Reading("\"0001-01-01T14:00:00+14:00\"", string.Empty), true, true },
        { Reading("\"9999-12-31T14:59:59.999999Z\"", string.Empty), true, true },
        { Reading("\"9999-12-31T23:59:59.999999Z\"", string.Empty), true, false },

        // Instants outside the years 1 to 9999 in UTC: Python's datetime cannot hold them either.
        { Reading("\"0001-01-01T00:00:00+14:00\"", string.Empty), false, false },
        { Reading("\"9999-12-31T23:59:59-12:00\"", string.Empty), false, false },

        // A duplicated field: json.loads keeps the last value, we refuse the payload (see AmbientPayload's remarks).
        { Reading("\"2024-10-07T23:54:50Z\"", ", \"temperature\": 99"), false, true },

        // A lone surrogate in the identifier: json reads it, but no UTF-8 column can store it; we refuse it.
        { Reading("\"2024-10-07T23:54:50Z\"", ", \"identifier\": \"\\ud800\""), false, true },

        // A line break in the identifier: Python stores it, we refuse it (it would forge a line of the console's output).
        { Reading("\"2024-10-07T23:54:50Z\"", ", \"identifier\": \"node\\n7\""), false, true },
    };

    [Theory]
    [MemberData(nameof(EdgePayloads))]
    public async Task PythonSubscriberAndOurs_EdgePayloads_AgreeWhereTheyShould(string payload, bool weAccept, bool pythonAccepts)
    {
        var python = FindPythonWithDateutil();
        const string Script = """
            import sys, json
            from datetime import timezone, timedelta
            from dateutil import parser
            JST = timezone(timedelta(hours=9))
            sys.setrecursionlimit(1000)
            try:
                json_msg = json.loads(bytes.fromhex(sys.stdin.read().strip()))
                ts = json_msg['timestamp']
                temp, hum, press = json_msg['temperature'], json_msg['humidity'], json_msg['pressure']
                date_jst = parser.parse(ts).astimezone(JST)
                print('ok', repr(temp), sep='|')
            except Exception as e:
                print('error', type(e).__name__, sep='|')
            """;
        var bytes = Encoding.UTF8.GetBytes(payload);

        var output = await RunAsync(python, Script, Convert.ToHexString(bytes));
        var ours = AmbientPayload.TryDecode(bytes, out var reading, out var error);

        ours.Should().Be(weAccept, error);
        output.StartsWith("ok|", StringComparison.Ordinal).Should().Be(pythonAccepts, output);
        if (weAccept && pythonAccepts)
        {
            output.Trim().Should().Be("ok|" + reading.Temperature.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    private static string Reading(string timestamp, string extra) =>
        $$"""{"timestamp": {{timestamp}}, "temperature": 26.5, "humidity": 57.5, "pressure": 997.75{{extra}}}""";

    [Fact]
    public async Task PythonPublisher_WritesPayloadsWeRead_ToTheSameValues()
    {
        var python = FindPythonWithDateutil();

        // mqtt_bme280_publish01.py's dictionary and json.dumps, with a few awkward values.
        const string Script = """
            import json, datetime
            values = [(26.72680231416598, 57.53434981211512, 997.8079720341007), (25.0, 0.0, 1e-05), (-0.1, 100.0, 1100.0)]
            base = datetime.datetime(2024, 10, 7, 23, 54, 50, 547143, tzinfo=datetime.timezone.utc)
            for i, (t, h, p) in enumerate(values):
                ts = (base + datetime.timedelta(seconds=i * 10, microseconds=-base.microsecond * (i == 1))).isoformat()
                print(json.dumps({'timestamp': ts, 'temperature': t, 'humidity': h, 'pressure': p}), repr(t), repr(h), repr(p), ts, sep='|')
            """;
        var output = await RunAsync(python, Script, string.Empty);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(3);
        foreach (var line in lines)
        {
            var fields = line.Split('|');
            var reading = AmbientPayload.Decode(Encoding.UTF8.GetBytes(fields[0]));
            reading.Temperature.Should().Be(double.Parse(fields[1], CultureInfo.InvariantCulture));
            reading.Humidity.Should().Be(double.Parse(fields[2], CultureInfo.InvariantCulture));
            reading.Pressure.Should().Be(double.Parse(fields[3], CultureInfo.InvariantCulture));
            reading.Timestamp.Should().Be(Instant.FromDateTimeOffset(DateTimeOffset.Parse(fields[4], CultureInfo.InvariantCulture)));
        }

        // The second line has no microseconds at all: Python's isoformat() leaves them out when they are zero.
        lines[1].Should().Contain("\"2024-10-07T23:55:00+00:00\"");
    }

    private static async Task<string> RunAsync(string python, string script, string input)
    {
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.Environment["PYTHONIOENCODING"] = "utf-8";
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.Should().Be(0, error);
        return output;
    }

    private static string FindPythonWithDateutil()
    {
        foreach (var candidate in new[] { "python3", "/usr/bin/python3" })
        {
            try
            {
                using var probe = Process.Start(new ProcessStartInfo(candidate, ["-c", "import dateutil"]) { RedirectStandardError = true })!;
                probe.WaitForExit();
                if (probe.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("no python3 with dateutil (scripts/install-deps.sh installs python3-dateutil)");
        }

        Assert.Skip("no python3 with dateutil: install python3-dateutil (./test.sh does)");
        return string.Empty;
    }
}
