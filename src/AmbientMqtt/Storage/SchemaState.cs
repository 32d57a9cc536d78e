using System.Diagnostics;

namespace AmbientMqtt.Storage;

/// <summary>What a reader found of the schema: the table is usable; whether the summary table is there.</summary>
/// <param name="SummariesPresent">Whether <c>&lt;Table&gt;_5m</c> exists with every column.</param>
internal sealed record SchemaState(bool SummariesPresent)
{
    /// <summary>Gets when it was looked at (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long CheckedAt { get; } = Stopwatch.GetTimestamp();
}

/// <summary>Looks at a reader's schema once it is complete; until then on every call, and for a missing summary
/// table once a minute, since the program that stores the readings may create either any moment.</summary>
/// <typeparam name="TConnection">The database's connection.</typeparam>
internal sealed class SchemaCheck<TConnection>(Func<TConnection, CancellationToken, Task<SchemaState>> inspect)
{
    private SchemaState? _known;

    public async Task<SchemaState> RequireAsync(TConnection connection, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _known) is { } known && (known.SummariesPresent || Stopwatch.GetElapsedTime(known.CheckedAt) < TimeSpan.FromMinutes(1)))
        {
            return known;
        }

        var state = await inspect(connection, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _known, state);
        return state;
    }
}
