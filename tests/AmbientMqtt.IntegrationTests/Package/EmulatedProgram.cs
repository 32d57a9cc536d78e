using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Package;

/// <summary>
/// A linux-arm64 program run on this machine under user-mode emulation, as <c>qemu-aarch64-static -L / ./Program …</c>
/// (Debian's qemu-user-static, with the arm64 libraries of Debian's multiarch under <c>/</c>): what a 64-bit Raspberry
/// Pi OS would run. qemu passes signals on to the program, so SIGTERM reaches its own handler.
/// </summary>
internal sealed class EmulatedProgram : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private EmulatedProgram(Process process) => _process = process;

    /// <summary>Gets every line the program wrote, stdout and stderr, in arrival order.</summary>
    public IReadOnlyList<string> Lines => _lines.ToArray();

    public static EmulatedProgram Start(string emulator, string executable, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(emulator, ["-L", "/", executable, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Path.GetDirectoryName(executable),
        };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("Mqtt__", StringComparison.Ordinal) || k.StartsWith("Database__", StringComparison.Ordinal) || k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = new Process { StartInfo = info };
        var program = new EmulatedProgram(process);
        process.OutputDataReceived += (_, e) => program.Add(e.Data);
        process.ErrorDataReceived += (_, e) => program.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return program;
    }

    public async Task WaitForLineAsync(string line, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!_lines.Contains(line))
        {
            if (_process.HasExited || clock.Elapsed > timeout)
            {
                throw new TimeoutException($"no line '{line}' after {clock.Elapsed.TotalSeconds:0.0} s (exited: {_process.HasExited}){Environment.NewLine}{Describe()}");
            }

            await Task.Delay(100);
        }
    }

    public void Terminate() => Signals.Terminate(_process.Id);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public string Describe() => "--- output ---" + Environment.NewLine + string.Join(Environment.NewLine, _lines.TakeLast(40));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }
}
