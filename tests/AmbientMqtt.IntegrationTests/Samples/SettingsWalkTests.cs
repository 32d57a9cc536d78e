using System.Reflection;
using System.Text.RegularExpressions;
using AmbientMqtt.Dashboard;
using AmbientMqtt.HomeAssistant;
using AmbientMqtt.Ingest;
using AmbientMqtt.IntegrationTests.Infrastructure;
using AmbientMqtt.Mqtt;
using AmbientMqtt.Publishing;
using AmbientMqtt.Sensors;
using AmbientMqtt.Storage;

namespace AmbientMqtt.IntegrationTests.Samples;

/// <summary>
/// Every key of the README's configuration table, given a bad value, stops the program that reads it at start-up with
/// exit code 2 and one line naming the key (issue 9: a bad setting that crashed with exit 134 was restarted by
/// systemd forever). The table is read from the README itself, so a key added there without a bad value here, or a
/// setting added to an options class without a row there, fails the walk.
/// </summary>
[Trait("Category", "Samples")]
public sealed partial class SettingsWalkTests
{
    // A file that exists, for the settings that want one beside the one under test.
    private static readonly string ExistingFile = Path.Combine(Path.GetDirectoryName(SampleProcess.AssemblyPath("MqttInsert"))!, "appsettings.json");

    /// <summary>key → the program that reads it, a value it must refuse, and what else that program needs for the key
    /// to be read at all.</summary>
    private static readonly Dictionary<string, BadSetting> BadSettings = new(StringComparer.Ordinal)
    {
        ["Mqtt:Host"] = new("Bme280Publisher", ""),
        ["Mqtt:Port"] = new("Bme280Publisher", "abc"),
        ["Mqtt:Embedded"] = new("MqttInsert", "maybe"),
        ["Mqtt:MaxPendingMessagesPerClient"] = new("MqttInsert", "0", "--Mqtt:Embedded=true"),
        ["Mqtt:Topic"] = new("MqttInsert", "raspi/#/x"),
        ["Mqtt:AvailabilityTopic"] = new("Bme280Publisher", "raspi/+/status"),
        ["Mqtt:AvailabilityOnline"] = new("Bme280Publisher", ""),
        ["Mqtt:AvailabilityOffline"] = new("Bme280Publisher", "online"),
        ["Mqtt:ClientId"] = new("KeyboardPublisher", "two words"),
        ["Mqtt:Username"] = BadSetting.None("any text is a user name; a wrong one is the broker's refusal, exit code 1"),
        ["Mqtt:Password"] = new("KeyboardPublisher", "secret"),
        ["Mqtt:UseTls"] = new("Bme280Publisher", "yes"),
        ["Mqtt:CaFile"] = new("MqttInsert", "/nonexistent/ca.crt", "--Mqtt:UseTls=true"),
        ["Mqtt:ClientCertificate"] = new("MqttInsert", "/nonexistent/client.crt", "--Mqtt:UseTls=true", $"--Mqtt:ClientKey={ExistingFile}"),
        ["Mqtt:ClientKey"] = new("Bme280Publisher", "/nonexistent/client.key", "--Mqtt:UseTls=true", $"--Mqtt:ClientCertificate={ExistingFile}"),
        ["Mqtt:Qos"] = new("MqttInsert", "3"),
        ["Mqtt:KeepAlive"] = new("Bme280Publisher", "30"),
        ["Mqtt:ConnectTimeout"] = new("MqttInsert", "00:00:00"),
        ["Mqtt:ReconnectDelay"] = new("KeyboardPublisher", "-00:00:01"),
        ["Mqtt:MaxReconnectDelay"] = new("MqttInsert", "00:00:00.100"),
        ["Mqtt:SocketBufferSize"] = new("Bme280Publisher", "100"),
        ["Mqtt:QueueCapacity"] = new("Bme280Publisher", "0"),
        ["Mqtt:SessionExpiry"] = new("MqttInsert", "00:00:10"),
        ["Mqtt:ReceiveMaximum"] = new("MqttInsert", "0"),
        ["Mqtt:MaxUnacknowledgedBytes"] = new("MqttInsert", "1000"),
        ["Mqtt:MaxPacketSize"] = new("MqttInsert", "100"),
        ["Mqtt:Connections"] = new("MqttInsert", "0"),
        ["Mqtt:SharedGroup"] = new("MqttInsert", "plant/a"),
        ["Database:Provider"] = new("AmbientStation", "Oracle"),
        ["Database:Path"] = new("AmbientStation", ""),
        ["Database:BusyTimeout"] = new("AmbientStation", "-00:00:01"),
        ["Database:ConnectionString"] = new("MqttInsert", "Server=localhost;Port=abc"),
        ["Database:Table"] = new("MqttInsert", "Ambient; DROP TABLE x"),
        ["Database:TimeZone"] = new("MqttInsert", "Mars/Olympus_Mons"),
        ["Database:MaxRejectedPayloadBytes"] = new("MqttInsert", "-1"),
        ["Database:UpgradeTable"] = new("MqttInsert", "perhaps"),
        ["Identifier"] = new("MqttInsert", new string('n', 65)),
        ["Ingest:MaxBatchSize"] = new("MqttInsert", "0"),
        ["Ingest:MaxPayloadBytes"] = new("MqttInsert", "12"),
        ["Ingest:RetryDelay"] = new("MqttInsert", "00:00:00"),
        ["Ingest:MaxRetryDelay"] = new("MqttInsert", "00:00:00.100"),
        ["Ingest:ShutdownTimeout"] = new("MqttInsert", "-00:00:01"),
        ["Ingest:SlowWriteWarning"] = new("MqttInsert", "0"),
        ["Ingest:ReorderWindow"] = new("AmbientStation", "-00:00:01"),
        ["Sensor:Kind"] = new("Bme280Publisher", "thermometer"),
        ["Sensor:BusId"] = new("Bme280Publisher", "-1"),
        ["Sensor:Address"] = new("Bme280Publisher", "0x78"),
        ["Sensor:Seed"] = new("Bme280Publisher", "seven", "--Sensor:Kind=simulated"),
        ["Sensor:TemperatureOffset"] = new("Bme280Publisher", "1e9", "--Sensor:Kind=simulated"),
        ["Sensor:HumidityOffset"] = new("AmbientStation", "ten"),
        ["Sensor:PressureOffset"] = new("Bme280Publisher", "NaN", "--Sensor:Kind=simulated"),
        ["Sensor:TemperatureOversampling"] = new("Bme280Publisher", "X3"),
        ["Sensor:PressureOversampling"] = new("Bme280Publisher", "Skip"),
        ["Sensor:HumidityOversampling"] = new("Bme280Publisher", "many"),
        ["Sensor:Filter"] = new("Bme280Publisher", "X32"),
        ["Sensor:MeasurementTimeout"] = new("Bme280Publisher", "00:00:00"),
        ["Publish:Interval"] = new("Bme280Publisher", "5"),
        ["Publish:Identifier"] = new("Bme280Publisher", "node/7"),
        ["Publish:SpoolPath"] = new("Bme280Publisher", "/dev/null/spool"),
        ["Publish:SpoolMaxReadings"] = new("KeyboardPublisher", "0"),
        ["HomeAssistant:Enabled"] = new("Bme280Publisher", "sure"),
        ["HomeAssistant:DiscoveryPrefix"] = new("Bme280Publisher", "homeassistant/#"),
        ["Dashboard:Urls"] = new("MqttInsert", "ftp://127.0.0.1:21"),
        ["Dashboard:Enabled"] = new("AmbientStation", "sometimes"),
        ["Dashboard:Password"] = new("AmbientStation", ""),
        ["Dashboard:ConnectionString"] = new("AmbientStation", "Server=localhost;Port=abc", "--Database:Provider=MariaDb"),
        ["Dashboard:StaleAfter"] = new("MqttInsert", "-00:00:01", "--Dashboard:Urls=http://127.0.0.1:0"),
        ["Dashboard:PollInterval"] = new("AmbientStation", "00:00:00"),
    };

    /// <summary>The options classes a program binds, and the section each is bound to.</summary>
    private static readonly (Type Type, string Section)[] OptionsTypes =
    [
        (typeof(MqttPublisherOptions), "Mqtt"),
        (typeof(MqttSubscriberOptions), "Mqtt"),
        (typeof(EmbeddedBrokerOptions), "Mqtt"),
        (typeof(MariaDbRepositoryOptions), "Database"),
        (typeof(SqliteRepositoryOptions), "Database"),
        (typeof(IngestOptions), "Ingest"),
        (typeof(SensorOptions), "Sensor"),
        (typeof(Bme280Options), "Sensor"),
        (typeof(PublishOptions), "Publish"),
        (typeof(DashboardOptions), "Dashboard"),
        (typeof(HomeAssistantOptions), "HomeAssistant"),
    ];

    /// <summary>Properties bound from elsewhere than "Section:Name".</summary>
    private static readonly Dictionary<string, string> KeyOfProperty = new(StringComparer.Ordinal)
    {
        ["Database:Identifier"] = "Identifier",       // the top-level key, as in the tutorial
        ["Mqtt:Identifier"] = "Publish:Identifier",   // MqttPublisherOptions.Identifier is read from Publish:Identifier
        ["Mqtt:SpoolPath"] = "Publish:SpoolPath",     // and the spool's settings from the Publish section too
        ["Mqtt:SpoolMaxReadings"] = "Publish:SpoolMaxReadings",
    };

    [Fact]
    public void ReadmeTable_AndOptionsClasses_AndThisWalk_NameTheSameKeys()
    {
        var readme = ReadmeKeys();
        readme.Should().HaveCountGreaterThan(50, "the README's configuration table is where users look for a setting");

        var properties = OptionsTypes
            .SelectMany(o => o.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
                .Select(p => $"{o.Section}:{p.Name}"))
            .Select(k => KeyOfProperty.GetValueOrDefault(k, k))
            .Distinct()
            .ToList();

        properties.Except(readme).Should().BeEmpty("every setting a program binds has a row in the README's configuration table");
        readme.Except(BadSettings.Keys).Should().BeEmpty("every key of the README's table is walked with a bad value here");
        BadSettings.Keys.Except(readme).Should().BeEmpty("a key walked here that the README does not list is a setting users cannot find");
    }

    [Fact]
    public async Task EveryKeyOfTheReadme_WithABadValue_StopsTheProgramWithOneLineNamingItAndExitCodeTwo()
    {
        var cases = ReadmeKeys().Where(k => BadSettings.TryGetValue(k, out var bad) && bad.Sample is not null).ToList();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var station = Directory.CreateTempSubdirectory("ambient-walk-");
        try
        {
            // Two at a time: each is a process start that ends at the settings check.
            await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = TestContext.Current.CancellationToken }, async (key, _) =>
            {
                var bad = BadSettings[key];
                var arguments = new List<string> { $"--{key}={bad.Value}" };
                arguments.AddRange(bad.Extra);
                if (bad.Sample == "AmbientStation" && key != "Database:Path")
                {
                    arguments.Add($"--Database:Path={Path.Combine(station.FullName, key.Replace(':', '_') + ".db")}");
                    arguments.Add("--Dashboard:Urls=http://127.0.0.1:0");
                }

                if (bad.Sample == "Bme280Publisher" && !bad.Extra.Any(a => a.StartsWith("--Sensor:Kind", StringComparison.Ordinal)) && !key.StartsWith("Sensor:", StringComparison.Ordinal))
                {
                    arguments.Add("--Sensor:Kind=simulated");
                }

                // Nothing here runs a broker or a database for them: a program that got past its settings check keeps
                // trying to connect, and the timeout below reports it.
                await using var program = SampleProcess.Start(bad.Sample!, arguments);
                int exitCode;
                try
                {
                    exitCode = await program.WaitForExitAsync(TimeSpan.FromSeconds(60));
                }
                catch (TimeoutException)
                {
                    failures.Add($"{key}={bad.Value} ({bad.Sample}): still running after 60 s\n{Brief(program)}");
                    return;
                }

                var lines = program.Errors.Concat(program.Output).Where(l => l.Contains("configuration error", StringComparison.Ordinal)).ToList();
                if (exitCode != 2)
                {
                    failures.Add($"{key}={bad.Value} ({bad.Sample}): exit code {exitCode}, not 2\n{Brief(program)}");
                }
                else if (lines.Count != 1 || !lines[0].Contains($"{key}:", StringComparison.Ordinal))
                {
                    failures.Add($"{key}={bad.Value} ({bad.Sample}): expected one 'configuration error' line naming {key}\n{Brief(program)}");
                }
            });
        }
        finally
        {
            station.Delete(recursive: true);
        }

        cases.Should().HaveCountGreaterThan(50);
        failures.Should().BeEmpty();
    }

    [Fact]
    public async Task MqttInsert_APacketSizeItsHeapCannotHold_ExitsTwoNamingTheKey()
    {
        // MqttInsert runs with a 64 MB heap ceiling: 64 MiB messages could never be held, and would crash it.
        await using var insert = SampleProcess.Start("MqttInsert", ["--Mqtt:MaxPacketSize=67108864", "--Mqtt:MaxUnacknowledgedBytes=67108864"]);

        (await insert.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(2, insert.Describe());
        insert.Errors.Should().ContainSingle(l => l.StartsWith("configuration error: Mqtt:MaxPacketSize:", StringComparison.Ordinal), insert.Describe())
            .Which.Should().Contain("HeapHardLimit");
    }

    private static string Brief(SampleProcess program)
    {
        var lines = program.Errors.Take(3).Concat(program.Output.Take(3)).Select(l => l.Length > 300 ? l[..300] + "…" : l);
        return "  " + string.Join("\n  ", lines);
    }

    private static List<string> ReadmeKeys()
    {
        var readme = File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot(), "README.md"));
        var start = readme.IndexOf("\n## Configuration\n", StringComparison.Ordinal);
        start.Should().BeGreaterThan(0, "the README has a Configuration section");
        var end = readme.IndexOf("\n## ", start + 5, StringComparison.Ordinal);
        return readme[start..end].Split('\n')
            .Select(l => TableRow().Match(l))
            .Where(m => m.Success)
            .Select(m => m.Groups["key"].Value)
            .ToList();
    }

    [GeneratedRegex(@"^\| `(?<key>[A-Za-z]+(:[A-Za-z]+)*)` \|")]
    private static partial Regex TableRow();

    private sealed record BadSetting(string? Sample, string Value, params string[] Extra)
    {
        public static BadSetting None(string reason) => new(null, reason);
    }
}
