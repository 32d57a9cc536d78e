using System.Text;
using System.Text.RegularExpressions;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// Every C# snippet of the README compiles against the library as it is: each becomes a method of its own in a
/// project that references AmbientMqtt and AmbientMqtt.Dashboard (and the OpenTelemetry packages the metrics snippet
/// names), with only the implicit usings of a console program, so a snippet that forgets a <c>using</c> fails here as
/// it would for a user who copies it.
/// </summary>
[Trait("Category", "Package")]
public sealed partial class ReadmeSnippetTests
{
    [Fact]
    public async Task EveryCSharpSnippetOfTheReadme_Compiles()
    {
        var root = SampleProcess.RepositoryRoot();
        var readme = await File.ReadAllTextAsync(Path.Combine(root, "README.md"), TestContext.Current.CancellationToken);
        var snippets = Snippet().Matches(readme).Select(m => m.Groups["code"].Value).ToList();
        snippets.Should().HaveCountGreaterThanOrEqualTo(7, "the README shows the library in use");

        var directory = Directory.CreateTempSubdirectory("ambient-readme-");
        try
        {
            for (var i = 0; i < snippets.Count; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(directory.FullName, $"Snippet{i + 1}.cs"), AsMethod(snippets[i], i + 1), TestContext.Current.CancellationToken);
            }

            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "Snippets.csproj"), Project(root), TestContext.Current.CancellationToken);
            File.Copy(Path.Combine(root, "nuget.config"), Path.Combine(directory.FullName, "nuget.config"));

            var build = await DotnetCli.RunAsync(directory.FullName, ["build", "-c", "Release", .. DotnetCli.NoServers], TimeSpan.FromMinutes(5));

            build.ExitCode.Should().Be(0, "each README snippet compiles as written (Snippet<N>.cs is the Nth):\n" + build);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The snippet's <c>using</c> lines at the top of its file, the rest as the body of a method that has
    /// what a top-level program has: <c>args</c>.</summary>
    private static string AsMethod(string snippet, int number)
    {
        var lines = snippet.Split('\n');
        var usings = lines.TakeWhile(l => l.StartsWith("using ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(';') && !l.Contains('=', StringComparison.Ordinal) && !l.StartsWith("using var", StringComparison.Ordinal)).ToList();
        var body = lines.Skip(usings.Count);
        var text = new StringBuilder();
        text.AppendLine("#pragma warning disable CS0162, CS1998, CS8321");
        foreach (var line in usings)
        {
            text.AppendLine(line);
        }

        text.AppendLine($"internal static class Snippet{number}");
        text.AppendLine("{");
        text.AppendLine("    public static async System.Threading.Tasks.Task<int> RunAsync(string[] args)");
        text.AppendLine("    {");
        foreach (var line in body)
        {
            text.Append("        ").AppendLine(line);
        }

        text.AppendLine("        return 0;");
        text.AppendLine("    }");
        text.AppendLine("}");
        return text.ToString();
    }

    private static string Project(string root) => $"""
        <Project Sdk="Microsoft.NET.Sdk.Web">
          <PropertyGroup>
            <OutputType>Library</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <!-- Only what a console program's implicit usings give: the web SDK's would hide a missing using. -->
            <ImplicitUsings>disable</ImplicitUsings>
            <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
          </PropertyGroup>
          <ItemGroup>
            <Using Include="System" />
            <Using Include="System.Collections.Generic" />
            <Using Include="System.IO" />
            <Using Include="System.Linq" />
            <Using Include="System.Net.Http" />
            <Using Include="System.Threading" />
            <Using Include="System.Threading.Tasks" />
          </ItemGroup>
          <ItemGroup>
            <ProjectReference Include="{Path.Combine(root, "src", "AmbientMqtt", "AmbientMqtt.csproj")}" />
            <ProjectReference Include="{Path.Combine(root, "src", "AmbientMqtt.Dashboard", "AmbientMqtt.Dashboard.csproj")}" />
            <PackageReference Include="OpenTelemetry.Extensions.Hosting" Version="1.20.1" />
            <PackageReference Include="OpenTelemetry.Exporter.OpenTelemetryProtocol" Version="1.20.1" />
          </ItemGroup>
        </Project>
        """;

    [GeneratedRegex(@"^```csharp\n(?<code>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
