namespace AmbientMqtt.Ingest;

/// <summary>
/// Finds readings that never arrived, from the numbers (<c>seq</c>) publishers give them: per node, the highest number
/// seen and the ranges skipped. A skipped number that arrives later (reordering: a redelivery after a reconnect, a
/// spool being sent) fills its place; one still missing after <see cref="IngestOptions.ReorderWindow"/> is reported.
/// Numbers seen again (duplicates) are no gap. A node whose numbering starts again far below (a publisher that lost its
/// state) is followed from its new number on.
/// </summary>
internal sealed class GapDetector(TimeSpan window, TimeProvider timeProvider)
{
    /// <summary>How far back a number may be before it is taken for a new numbering rather than a late or repeated one.</summary>
    private const long RenumberDistance = 100_000;

    /// <summary>The most skipped ranges kept per node; beyond, the oldest is reported at once.</summary>
    private const int MaxRangesPerNode = 1_000;

    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);

    /// <summary>A range of readings of one node found missing: the numbers after <see cref="After"/> and before
    /// <see cref="Before"/>.</summary>
    public readonly record struct Gap(string Identifier, long After, long Before)
    {
        public long Count => Before - After - 1;
    }

    /// <summary>Takes note of reading number <paramref name="sequence"/> of <paramref name="identifier"/>.</summary>
    /// <returns><see langword="true"/> when it restarts the node's numbering.</returns>
    public bool Observe(string identifier, long sequence, List<Gap> overflow)
    {
        var now = timeProvider.GetTimestamp();
        if (!_nodes.TryGetValue(identifier, out var node))
        {
            _nodes[identifier] = new Node { Highest = sequence };
            return false;
        }

        if (sequence > node.Highest)
        {
            if (sequence > node.Highest + 1)
            {
                node.Missing.Add(new Range(node.Highest + 1, sequence - 1, now));
                if (node.Missing.Count > MaxRangesPerNode)
                {
                    var oldest = node.Missing[0];
                    node.Missing.RemoveAt(0);
                    overflow.Add(new Gap(identifier, oldest.From - 1, oldest.To + 1));
                }
            }

            node.Highest = sequence;
            return false;
        }

        for (var i = node.Missing.Count - 1; i >= 0; i--)
        {
            var range = node.Missing[i];
            if (sequence < range.From || sequence > range.To)
            {
                continue;
            }

            // A late reading fills its place in the range.
            node.Missing.RemoveAt(i);
            if (sequence > range.From)
            {
                node.Missing.Insert(i, range with { To = sequence - 1 });
            }

            if (sequence < range.To)
            {
                node.Missing.Insert(sequence > range.From ? i + 1 : i, range with { From = sequence + 1 });
            }

            return false;
        }

        if (sequence < node.Highest - RenumberDistance)
        {
            node.Highest = sequence;
            node.Missing.Clear();
            return true;
        }

        // Seen before: a redelivery.
        return false;
    }

    /// <summary>The ranges missing for longer than the window, reported once each.</summary>
    public void CollectOverdue(List<Gap> gaps)
    {
        var cutoff = timeProvider.GetTimestamp() - (long)(window.TotalSeconds * timeProvider.TimestampFrequency);
        foreach (var (identifier, node) in _nodes)
        {
            while (node.Missing.Count > 0 && node.Missing[0].Since <= cutoff)
            {
                var range = node.Missing[0];
                node.Missing.RemoveAt(0);
                gaps.Add(new Gap(identifier, range.From - 1, range.To + 1));
            }
        }
    }

    private readonly record struct Range(long From, long To, long Since);

    private sealed class Node
    {
        public long Highest;
        public List<Range> Missing { get; } = [];
    }
}
