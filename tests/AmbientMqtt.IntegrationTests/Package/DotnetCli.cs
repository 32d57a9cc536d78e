using System.Diagnostics;
using System.Text;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// Runs the <c>dotnet</c> CLI as a user would, with its output collected. Builds run without node reuse or the shared
/// compiler, so no MSBuild or VBCSCompiler process outlives the test.
/// </summary>
internal static class DotnetCli
{
    /// <summary>Arguments that keep a build from leaving server processes behind.</summary>
    public static readonly string[] NoServers = ["-nodeReuse:false", "-p:UseSharedCompilation=false"];

    /// <param name="workingDirectory">Where it runs.</param>
    /// <param name="arguments">The arguments.</param>
    /// <param name="timeout">How long it may take.</param>
    /// <param name="environment">Variables to set.</param>
    /// <param name="stopAfter">For a program that runs until stopped: the output line after which it gets SIGTERM.</param>
    public static async Task<CliResult> RunAsync(string workingDirectory, IEnumerable<string> arguments, TimeSpan timeout, IDictionary<string, string>? environment = null, Func<string, bool>? stopAfter = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // The test host runs under `dotnet test`, whose MSBuild settings must not steer a user's build.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("MSBuild", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        var stopped = 0;
        process.OutputDataReceived += (_, e) =>
        {
            Append(output, e.Data);
            if (stopAfter is not null && e.Data is { } line && stopAfter(line) && Interlocked.Exchange(ref stopped, 1) == 0)
            {
                Infrastructure.Signals.Terminate(process.Id);
            }
        };
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"dotnet {string.Join(' ', info.ArgumentList)} did not finish within {timeout}{Environment.NewLine}{output}");
        }

        // WaitForExitAsync returns once the streams are drained too.
        return new CliResult(process.ExitCode, Text(output), clock.Elapsed, $"dotnet {string.Join(' ', info.ArgumentList)}");
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

/// <summary>What a <c>dotnet</c> command did.</summary>
public sealed record CliResult(int ExitCode, string Output, TimeSpan Elapsed, string Command)
{
    public override string ToString() => $"{Command} exited {ExitCode} after {Elapsed.TotalSeconds:0.0} s{Environment.NewLine}{Output}";
}
