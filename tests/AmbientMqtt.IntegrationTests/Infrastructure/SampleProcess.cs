using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>
/// One of the sample programs, started as the built assembly (<c>dotnet Sample.dll</c>, not <c>dotnet run</c>, so a
/// signal reaches the program itself), with its stdout and stderr collected line by line.
/// </summary>
internal sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly SemaphoreSlim _lineArrived = new(0, int.MaxValue);

    private SampleProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public IReadOnlyList<string> Output => _stdout.ToArray();

    public IReadOnlyList<string> Errors => _stderr.ToArray();

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static string AssemblyPath(string sample)
    {
        var configuration = typeof(SampleProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var root = RepositoryRoot();
        var path = Path.Combine(root, "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{sample} is not built at {path}; build the solution first", path);
        }

        return path;
    }

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AmbientMqtt.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("AmbientMqtt.sln not found above the test assembly");
    }

    public static SampleProcess Start(string sample, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
        => Start(sample, "dotnet", AssemblyPath(sample), arguments, environment);

    /// <summary>A sample published as an executable of its own (Native AOT), started from its publish folder.</summary>
    public static SampleProcess StartExecutable(string executable, IEnumerable<string> arguments, IDictionary<string, string>? environment = null)
        => Start(Path.GetFileName(executable), executable, assembly: null, arguments, environment);

    private static SampleProcess Start(string sample, string command, string? assembly, IEnumerable<string> arguments, IDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(command)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (assembly is not null)
        {
            info.ArgumentList.Add(assembly);
        }

        var given = arguments.ToList();
        foreach (var argument in given)
        {
            info.ArgumentList.Add(argument);
        }

        // AmbientStation serves its dashboard on 127.0.0.1:8080 by default; tests never take a fixed port.
        if (sample == "AmbientStation" && !given.Any(a => a.StartsWith("--Dashboard:", StringComparison.Ordinal)))
        {
            info.ArgumentList.Add("--Dashboard:Urls=http://127.0.0.1:0");
        }

        // A developer's own settings must not leak into the test.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Mqtt__", StringComparison.Ordinal) || k.StartsWith("Database__", StringComparison.Ordinal) || k.StartsWith("Dashboard__", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var sampleProcess = new SampleProcess(process);
        process.OutputDataReceived += (_, e) => sampleProcess.Collect(sampleProcess._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => sampleProcess.Collect(sampleProcess._stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sampleProcess;
    }

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Waits until a line of stdout satisfies <paramref name="predicate"/>; fails with both streams if it never does.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var match = _stdout.FirstOrDefault(predicate);
            if (match is not null)
            {
                return match;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"no matching output within {timeout}.{Environment.NewLine}{Describe()}");
            }

            await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(100));
        }
    }

    /// <summary>Waits until a line of stderr satisfies <paramref name="predicate"/>; fails with both streams if it never does.</summary>
    public async Task<string> WaitForErrorAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var match = _stderr.FirstOrDefault(predicate);
            if (match is not null)
            {
                return match;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"no matching line on stderr within {timeout}.{Environment.NewLine}{Describe()}");
            }

            await Task.Delay(100);
        }
    }

    public int CountOutput(Func<string, bool> predicate) => _stdout.Count(predicate);

    public void Terminate() => Signals.Terminate(_process.Id);

    public void Interrupt() => Signals.Interrupt(_process.Id);

    public void KillHard() => _process.Kill(entireProcessTree: true);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the program did not exit within {timeout}.{Environment.NewLine}{Describe()}");
        }

        return _process.ExitCode;
    }

    public string Describe()
        => $"--- stdout ---{Environment.NewLine}{string.Join(Environment.NewLine, _stdout.TakeLast(40))}{Environment.NewLine}"
            + $"--- stderr ---{Environment.NewLine}{string.Join(Environment.NewLine, _stderr.TakeLast(40))}";

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    private void Collect(ConcurrentQueue<string> queue, string? line)
    {
        if (line is null)
        {
            return;
        }

        queue.Enqueue(line);
        try
        {
            _lineArrived.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
