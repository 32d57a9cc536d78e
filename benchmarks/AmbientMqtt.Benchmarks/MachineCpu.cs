using System.Globalization;

namespace AmbientMqtt.Benchmarks;

/// <summary>
/// CPU time of every process on the machine, from /proc, so a burst can say where the machine's time went: the broker,
/// MariaDB, the publisher, MqttInsert and this harness.
/// </summary>
internal sealed class MachineCpu
{
    private const double ClockTicks = 100; // USER_HZ on Linux

    private readonly Dictionary<int, (string Name, long Ticks)> _processes;
    private readonly long _busy;
    private readonly long _total;

    private MachineCpu(Dictionary<int, (string Name, long Ticks)> processes, long busy, long total)
    {
        _processes = processes;
        _busy = busy;
        _total = total;
    }

    public static MachineCpu Take()
    {
        var processes = new Dictionary<int, (string, long)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                processes[pid] = (name, long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        // First line of /proc/stat: user nice system idle iowait irq softirq steal …
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var total = cpu.Take(8).Sum();
        var idle = cpu[3] + cpu[4];
        return new MachineCpu(processes, total - idle, total);
    }

    /// <summary>CPU µs per reading by process name (processes started meanwhile count from zero; kernel workers are
    /// summed under "kworker"), and the share of the machine's time that was busy.</summary>
    public static (IReadOnlyList<(string Name, double Micros)> ByProcess, double BusyShare) Between(MachineCpu before, MachineCpu after, int readings, IReadOnlyDictionary<int, string> labels)
    {
        var byName = new Dictionary<string, long>();
        foreach (var (pid, (name, ticks)) in after._processes)
        {
            // By pid alone: kernel workers rename themselves after the queue they serve.
            var start = before._processes.TryGetValue(pid, out var earlier) ? earlier.Ticks : 0;
            var label = labels.TryGetValue(pid, out var l) ? l : name.StartsWith("kworker", StringComparison.Ordinal) ? "kworker" : name;
            byName[label] = byName.GetValueOrDefault(label) + (ticks - start);
        }

        var list = byName
            .Where(p => p.Value > 0)
            .OrderByDescending(p => p.Value)
            .Select(p => (p.Key, p.Value * 1_000_000.0 / ClockTicks / readings))
            .ToList();
        return (list, (double)(after._busy - before._busy) / Math.Max(1, after._total - before._total));
    }
}
