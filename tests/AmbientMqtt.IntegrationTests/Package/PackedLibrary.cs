using System.Globalization;
using System.Xml.Linq;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// The library packed once per test class, as <c>dotnet pack</c> makes it, into a temporary local feed. Every build
/// output (bin, obj, the feed) lives in a temp directory, never in the repository, and the version is unique to the run,
/// so the global packages folder never serves an older copy; that version's folder there is deleted afterwards.
/// </summary>
public sealed class PackedLibrary : IAsyncLifetime
{
    public PackedLibrary()
    {
        Root = Directory.CreateTempSubdirectory("ambientmqtt-package-").FullName;
        Feed = Path.Combine(Root, "feed");
        Version = string.Create(CultureInfo.InvariantCulture, $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}");
    }

    /// <summary>Gets the temp directory that holds everything of this class.</summary>
    public string Root { get; }

    /// <summary>Gets the local feed the package is packed into.</summary>
    public string Feed { get; }

    /// <summary>Gets the version packed.</summary>
    public string Version { get; }

    /// <summary>Gets the <c>dotnet pack</c> run of AmbientMqtt.</summary>
    public CliResult Pack { get; private set; } = null!;

    /// <summary>Gets the <c>dotnet pack</c> run of AmbientMqtt.Dashboard (same version, into the same feed).</summary>
    public CliResult PackDashboard { get; private set; } = null!;

    public string PackagePath => Path.Combine(Feed, $"AmbientMqtt.{Version}.nupkg");

    public string SymbolsPath => Path.Combine(Feed, $"AmbientMqtt.{Version}.snupkg");

    public async ValueTask InitializeAsync()
    {
        var project = Path.Combine(SampleProcess.RepositoryRoot(), "src", "AmbientMqtt", "AmbientMqtt.csproj");
        Pack = await DotnetCli.RunAsync(
            Root,
            ["pack", project, "-c", "Release", "-o", Feed, "--artifacts-path", Path.Combine(Root, "artifacts"), $"-p:Version={Version}", .. DotnetCli.NoServers],
            TimeSpan.FromMinutes(5));
        var dashboard = Path.Combine(SampleProcess.RepositoryRoot(), "src", "AmbientMqtt.Dashboard", "AmbientMqtt.Dashboard.csproj");
        PackDashboard = await DotnetCli.RunAsync(
            Root,
            ["pack", dashboard, "-c", "Release", "-o", Feed, "--artifacts-path", Path.Combine(Root, "artifacts"), $"-p:Version={Version}", .. DotnetCli.NoServers],
            TimeSpan.FromMinutes(5));
    }

    /// <summary>A nuget.config with this feed first, then the repository's own sources.</summary>
    public string NugetConfig()
    {
        var repository = XDocument.Load(Path.Combine(SampleProcess.RepositoryRoot(), "nuget.config"));
        var upstream = repository.Descendants("packageSources").Elements("add").Select(e => new XElement(e)).ToList();
        return new XDocument(
            new XElement(
                "configuration",
                new XElement(
                    "packageSources",
                    new XElement("clear"),
                    new XElement("add", new XAttribute("key", "local"), new XAttribute("value", Feed)),
                    upstream))).ToString();
    }

    public ValueTask DisposeAsync()
    {
        TryDelete(Root);
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        TryDelete(Path.Combine(packages, "ambientmqtt", Version.ToLowerInvariant()));
        TryDelete(Path.Combine(packages, "ambientmqtt.dashboard", Version.ToLowerInvariant()));
        return ValueTask.CompletedTask;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
