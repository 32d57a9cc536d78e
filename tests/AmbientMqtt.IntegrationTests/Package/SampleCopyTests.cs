using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// A sample is a program a user copies: each <c>samples/X</c> copied out of the repository, its references to the
/// library swapped for the packages (as its .csproj says to), builds on its own, with no Directory.*.props or global.json
/// above it, and runs.
/// </summary>
[Trait("Category", "Package")]
public sealed partial class SampleCopyTests(PackedLibrary packed, MqttServer broker) : IClassFixture<PackedLibrary>
{
    [Theory]
    [InlineData("Bme280Publisher")]
    [InlineData("KeyboardPublisher")]
    [InlineData("MqttInsert")]
    [InlineData("AmbientStation")]
    public async Task SampleCopiedOutWithThePackages_BuildsAndRuns(string sample)
    {
        broker.RequireAvailable();
        packed.Pack.ExitCode.Should().Be(0, packed.Pack.ToString());
        packed.PackDashboard.ExitCode.Should().Be(0, packed.PackDashboard.ToString());
        var directory = Path.Combine(packed.Root, "copies", sample);
        var source = Path.Combine(SampleProcess.RepositoryRoot(), "samples", sample);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            var target = Path.Combine(directory, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var project = Path.Combine(directory, $"{sample}.csproj");
        var text = await File.ReadAllTextAsync(project, TestContext.Current.CancellationToken);
        var swapped = ProjectReference().Replace(text, m => $"<PackageReference Include=\"{m.Groups["name"].Value}\" Version=\"{packed.Version}\" />");
        swapped.Should().NotContain("<ProjectReference", "the sample references nothing of the repository but the library");
        await File.WriteAllTextAsync(project, swapped, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "nuget.config"), packed.NugetConfig(), TestContext.Current.CancellationToken);
        var output = Path.Combine(packed.Root, "copies-out", sample);

        var build = await DotnetCli.RunAsync(directory, ["build", "-c", "Release", "-o", output, .. DotnetCli.NoServers], TimeSpan.FromMinutes(5));

        build.ExitCode.Should().Be(0, build.ToString());
        build.Output.Should().NotContain(": warning ", build.ToString());

        // It runs: each to the first line that needs a server of its own, then a clean stop.
        var arguments = sample switch
        {
            "Bme280Publisher" => new[] { "--Sensor:Kind=simulated", $"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}", "--Publish:Interval=00:00:00.100" },
            "KeyboardPublisher" => [$"--Mqtt:Host={broker.Host}", $"--Mqtt:Port={broker.Port}"],
            "MqttInsert" => ["--Ingest:MaxBatchSize=0"],
            _ => ["--Database:Path=" + Path.Combine(packed.Root, "copies", "station.db"), "--Dashboard:Urls=http://127.0.0.1:0", "--Publish:Interval=00:00:00.200"],
        };
        var run = await DotnetCli.RunAsync(output, [Path.Combine(output, $"{sample}.dll"), .. arguments], TimeSpan.FromSeconds(20), stopAfter: sample switch
        {
            "Bme280Publisher" => l => l.StartsWith("publish するデータ:", StringComparison.Ordinal),
            "AmbientStation" => l => l.StartsWith("●NEW_DATA:", StringComparison.Ordinal),
            _ => null,
        });
        if (sample == "MqttInsert")
        {
            run.ExitCode.Should().Be(2, run.ToString());
            run.Output.Should().Contain("configuration error: Ingest:MaxBatchSize", run.ToString());
        }
        else
        {
            run.ExitCode.Should().Be(0, run.ToString());
        }
    }

    [GeneratedRegex("""<ProjectReference Include="[^"]*[/\\](?<name>AmbientMqtt(\.Dashboard)?)\.csproj" />""")]
    private static partial Regex ProjectReference();
}
