using System.IO.Compression;
using System.Xml.Linq;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// The package as a user gets it: packed from the repository, added with <c>dotnet add package</c> to a console project
/// made with <c>dotnet new</c> outside the solution, built and run against the test broker. Run on their own with
/// <c>--filter-trait "Category=Package"</c>.
/// </summary>
[Trait("Category", "Package")]
public sealed class AmbientMqttPackageTests(PackedLibrary packed, MqttServer broker) : IClassFixture<PackedLibrary>
{
    private const string ProjectUrl = "https://github.com/ambientmqtt/AmbientMqtt";

    [Fact]
    public void Pack_Library_MakesPackageWithReadmeLicenseDocsAndNothingElse()
    {
        packed.Pack.ExitCode.Should().Be(0, packed.Pack.ToString());
        packed.Pack.Output.Should().NotContain(": warning ", "the library packs without a warning, git remote or not: {0}", packed.Pack);

        using var package = ZipFile.OpenRead(packed.PackagePath);
        var entries = package.Entries.Select(e => e.FullName).ToList();
        entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal))
            .Should().BeEquivalentTo("lib/net10.0/AmbientMqtt.dll", "lib/net10.0/AmbientMqtt.xml");
        entries.Should().Contain("README.md").And.Contain("AmbientMqtt.nuspec");
        entries.Should().NotContain(e => e.EndsWith(".pdb", StringComparison.Ordinal), "symbols go to the .snupkg");
        foreach (var notShipped in new[] { "Sample", "Test", "Benchmark", "KeyboardPublisher", "Bme280Publisher", "MqttInsert" })
        {
            entries.Should().NotContain(e => e.Contains(notShipped, StringComparison.OrdinalIgnoreCase));
        }

        var readme = Read(package, "README.md");
        readme.Should().Be(File.ReadAllText(Path.Combine(SampleProcess.RepositoryRoot(), "README.md")));

        var docs = XDocument.Parse(Read(package, "lib/net10.0/AmbientMqtt.xml"));
        var documented = docs.Descendants("member").Select(m => (string)m.Attribute("name")!).ToHashSet();
        documented.Should().Contain("T:AmbientMqtt.Mqtt.MqttReadingPublisher")
            .And.Contain("T:AmbientMqtt.Publishing.PublishingPipeline")
            .And.Contain(m => m.StartsWith("M:Microsoft.Extensions.DependencyInjection.AmbientMqttServiceCollectionExtensions.AddAmbientIngest(", StringComparison.Ordinal));

        var nuspec = XDocument.Parse(Read(package, "AmbientMqtt.nuspec"));
        var ns = nuspec.Root!.Name.Namespace;
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        string Meta(string name) => (string?)metadata.Element(ns + name) ?? string.Empty;
        Meta("id").Should().Be("AmbientMqtt");
        Meta("version").Should().Be(packed.Version);
        Meta("authors").Should().Be("AmbientMqtt contributors");
        Meta("description").Should().Contain("BME280").And.Contain("MQTT").And.Contain("MariaDB");
        Meta("tags").Split(' ').Should().Contain(["mqtt", "bme280", "raspberry-pi", "mariadb"]);
        Meta("readme").Should().Be("README.md");
        Meta("projectUrl").Should().Be(ProjectUrl);
        var license = metadata.Element(ns + "license")!;
        ((string?)license.Attribute("type")).Should().Be("expression");
        license.Value.Should().Be("MIT");
        ((string?)metadata.Element(ns + "repository")?.Attribute("url")).Should().Be(ProjectUrl);

        var dependencies = metadata.Descendants(ns + "dependency").Select(d => (string)d.Attribute("id")!).ToList();
        dependencies.Should().Contain(["MQTTnet", "MySqlConnector", "NodaTime", "System.Device.Gpio", "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Options.ConfigurationExtensions"]);
        dependencies.Should().NotContain(d => d.StartsWith("Microsoft.SourceLink", StringComparison.Ordinal), "SourceLink is a build-time reference");

        File.Exists(packed.SymbolsPath).Should().BeTrue($"dotnet pack should make {packed.SymbolsPath}");
        using var symbols = ZipFile.OpenRead(packed.SymbolsPath);
        symbols.Entries.Select(e => e.FullName).Should().Contain("lib/net10.0/AmbientMqtt.pdb");
    }

    [Fact]
    public async Task AddPackage_FreshConsoleAppOutsideTheSolution_PublishesSimulatedReadingsToTheBroker()
    {
        broker.RequireAvailable();
        packed.Pack.ExitCode.Should().Be(0, packed.Pack.ToString());
        var output = TestContext.Current.TestOutputHelper;
        var app = Path.Combine(packed.Root, "consumer");
        Directory.CreateDirectory(app);

        // Its own nuget.config: the local feed, then the repository's upstream sources; no global.json or
        // Directory.*.props above it, as in a user's own directory.
        File.WriteAllText(Path.Combine(app, "nuget.config"), NugetConfig(packed.Feed));
        var steps = new List<CliResult>
        {
            await DotnetCli.RunAsync(app, ["new", "console", "--name", "AmbientConsumer", "--output", ".", "--no-restore"], TimeSpan.FromMinutes(2)),
        };
        steps.Add(await DotnetCli.RunAsync(app, ["add", "package", "AmbientMqtt", "--version", packed.Version, "--source", packed.Feed], TimeSpan.FromMinutes(3)));
        File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram);
        steps.Add(await DotnetCli.RunAsync(app, ["build", "-c", "Release", "-o", Path.Combine(packed.Root, "consumer-out"), .. DotnetCli.NoServers], TimeSpan.FromMinutes(5)));
        foreach (var step in steps)
        {
            output?.WriteLine($"{step.Command}: {step.Elapsed.TotalSeconds:0.0} s");
            step.ExitCode.Should().Be(0, step.ToString());
        }

        steps[^1].Output.Should().NotContain(": warning ", steps[^1].ToString());
        File.ReadAllText(Path.Combine(app, "AmbientConsumer.csproj")).Should().Contain($"Include=\"AmbientMqtt\" Version=\"{packed.Version}\"");

        const int Count = 25;
        var topic = $"test/{Guid.NewGuid():N}/package";
        await using var collector = await MqttCollector.StartAsync(broker.Host, broker.Port, topic);
        var run = await DotnetCli.RunAsync(
            app,
            [Path.Combine(packed.Root, "consumer-out", "AmbientConsumer.dll"), broker.Host, broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), topic, Count.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(1));
        output?.WriteLine($"{run.Command}: {run.Elapsed.TotalSeconds:0.0} s");

        run.ExitCode.Should().Be(0, run.ToString());
        var printed = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.StartsWith('{')).ToList();
        printed.Should().HaveCount(Count, run.ToString());
        var received = await collector.WaitForCountAsync(Count, TimeSpan.FromSeconds(20));
        received.Should().BeEquivalentTo(printed, "every payload the program published reaches a subscriber, once");
        run.Output.Should().Contain($"published {Count}, flushed True");
    }

    private static string Read(ZipArchive archive, string entry)
    {
        using var reader = new StreamReader(archive.GetEntry(entry)!.Open());
        return reader.ReadToEnd();
    }

    private static string NugetConfig(string feed)
    {
        var repository = XDocument.Load(Path.Combine(SampleProcess.RepositoryRoot(), "nuget.config"));
        var upstream = repository.Descendants("packageSources").Elements("add").Select(e => new XElement(e)).ToList();
        var config = new XDocument(
            new XElement(
                "configuration",
                new XElement(
                    "packageSources",
                    new XElement("clear"),
                    new XElement("add", new XAttribute("key", "local"), new XAttribute("value", feed)),
                    upstream)));
        return config.ToString();
    }

    // The README's first snippet, made to stop: a simulated sensor published N times, then a flush.
    private const string ConsumerProgram = """
        using AmbientMqtt;
        using AmbientMqtt.Mqtt;
        using AmbientMqtt.Sensors;

        var count = int.Parse(args[3]);
        var sensor = new SimulatedSensor(seed: 7);
        await using var publisher = new MqttReadingPublisher(new MqttPublisherOptions
        {
            Host = args[0],
            Port = int.Parse(args[1]),
            Topic = args[2],
            ClientId = "package-consumer-" + Environment.ProcessId,
        });
        await publisher.StartAsync();
        for (var i = 0; i < count; i++)
        {
            var reading = await sensor.ReadAsync();
            await publisher.PublishAsync(reading);
            Console.WriteLine(AmbientPayload.EncodeToString(reading));
        }

        var flushed = await publisher.FlushAsync(TimeSpan.FromSeconds(20));
        Console.WriteLine($"published {publisher.Published}, flushed {flushed}");
        return flushed ? 0 : 1;
        """;
}
