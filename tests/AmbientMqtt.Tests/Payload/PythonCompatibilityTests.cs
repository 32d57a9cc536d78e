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
        };
        var input = string.Join('\n', readings.Select(r => AmbientPayload.EncodeToString(r))) + "\n";

        // What mqtt_ambient_sub.py does with each message, then each value printed with repr().
        const string Script = """
            import sys, json
            from dateutil import parser
            for line in sys.stdin:
                m = json.loads(line)
                ts = parser.parse(m['timestamp'])
                print(ts.utcoffset().total_seconds(), ts.strftime('%Y-%m-%dT%H:%M:%S.%f'), repr(m['temperature']), repr(m['humidity']), repr(m['pressure']), m.get('identifier'), sep='|')
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
        }
    }

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
