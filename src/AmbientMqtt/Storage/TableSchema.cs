namespace AmbientMqtt.Storage;

/// <summary>
/// What a repository found of its tables, and the one rule both repositories apply to it: which unique key makes a
/// redelivered reading a no-op, and which would drop a distinct reading.
/// </summary>
/// <remarks>
/// <para>The key is (identifier, timestamp_utc): two readings are the same exactly when the same node took them at
/// the same instant. A table made by the first wave of AmbientMqtt has its key on (identifier, timestamp), the local
/// wall-clock time: in a zone with daylight saving the hour repeated in autumn makes two instants one, and the second
/// reading is taken for a redelivery. Such a table keeps working, with a start-up line saying how to upgrade it.</para>
/// <para>A unique index that lacks the identifier, or both time columns, would take readings of two nodes (or two
/// instants) for one and drop the second: the repository refuses to write to such a table rather than lose readings
/// silently.</para>
/// </remarks>
internal sealed class TableSchema
{
    /// <summary>The columns every row needs.</summary>
    public static readonly string[] RequiredColumns = ["timestamp", "identifier", "temperature", "humidity", "pressure"];

    /// <summary>The column the key rests on.</summary>
    public const string UtcColumn = "timestamp_utc";

    /// <summary>The suffix of the dead-letter table.</summary>
    public const string RejectedSuffix = "_rejected";

    /// <summary>The suffix of the 5-minute summary table.</summary>
    public const string SummarySuffix = "_5m";

    private TableSchema(bool tableExists, bool hasUtcColumn, bool keyOnInstant, bool keyOnLocalTime, bool rejectedTableExists, bool summaryTableExists, string? problem)
    {
        TableExists = tableExists;
        HasUtcColumn = hasUtcColumn;
        KeyOnInstant = keyOnInstant;
        KeyOnLocalTime = keyOnLocalTime;
        RejectedTableExists = rejectedTableExists;
        SummaryTableExists = summaryTableExists;
        Problem = problem;
    }

    /// <summary>The schema of an empty database, once the repository has created its tables.</summary>
    public static TableSchema Created { get; } = new(true, true, true, false, true, true, null);

    public bool TableExists { get; }

    /// <summary>Gets a value indicating whether rows carry <c>timestamp_utc</c> (every table made by this version).</summary>
    public bool HasUtcColumn { get; }

    /// <summary>Gets a value indicating whether a unique index on exactly (identifier, timestamp_utc) exists.</summary>
    public bool KeyOnInstant { get; }

    /// <summary>Gets a value indicating whether a unique index on exactly (identifier, timestamp) exists: the first
    /// wave's key, which takes two instants of the same local time for one.</summary>
    public bool KeyOnLocalTime { get; }

    public bool RejectedTableExists { get; }

    public bool SummaryTableExists { get; }

    /// <summary>Gets a value indicating whether a redelivered reading is recognised (any of the two keys).</summary>
    public bool HasKey => KeyOnInstant || KeyOnLocalTime;

    /// <summary>Gets why rows cannot be written to this table at all, or <see langword="null"/>.</summary>
    public string? Problem { get; }

    /// <summary>Applies the rule to what a repository read of its tables.</summary>
    /// <param name="table">The table's name, for messages.</param>
    /// <param name="columns">The columns of the main table; empty when it does not exist.</param>
    /// <param name="uniqueIndexes">The unique indexes of the main table other than its primary key, with their columns.</param>
    /// <param name="rejectedTableExists">Whether the dead-letter table exists.</param>
    /// <param name="summaryTableExists">Whether the summary table exists.</param>
    /// <param name="dropIndex">How to drop an index in this database's SQL, given the index name.</param>
    public static TableSchema Classify(
        string table,
        IReadOnlyCollection<string> columns,
        IEnumerable<(string Index, IReadOnlyCollection<string> Columns)> uniqueIndexes,
        bool rejectedTableExists,
        bool summaryTableExists,
        Func<string, string> dropIndex)
    {
        if (columns.Count == 0)
        {
            return new TableSchema(false, false, false, false, rejectedTableExists, summaryTableExists, null);
        }

        var has = new HashSet<string>(columns, StringComparer.OrdinalIgnoreCase);
        var missing = RequiredColumns.Where(c => !has.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            return new TableSchema(true, false, false, false, rejectedTableExists, summaryTableExists,
                $"table {table} exists but has no column {string.Join(", ", missing)}, which every row needs. Rename the table or set another table name (Database:Table).");
        }

        bool keyOnInstant = false, keyOnLocalTime = false;
        foreach (var (index, indexColumns) in uniqueIndexes)
        {
            var set = new HashSet<string>(indexColumns, StringComparer.OrdinalIgnoreCase);
            if (!set.Contains("identifier") || !(set.Contains("timestamp") || set.Contains(UtcColumn)))
            {
                return new TableSchema(true, has.Contains(UtcColumn), false, false, rejectedTableExists, summaryTableExists,
                    $"table {table} has the unique index {index} on ({string.Join(", ", indexColumns)}), which would take readings of different nodes or instants for one and drop all but the first. Drop it ({dropIndex(index)}) or set another table name (Database:Table).");
            }

            keyOnInstant |= set.Count == 2 && set.Contains(UtcColumn);
            keyOnLocalTime |= set.Count == 2 && set.Contains("timestamp");
        }

        return new TableSchema(true, has.Contains(UtcColumn), keyOnInstant, keyOnLocalTime, rejectedTableExists, summaryTableExists, null);
    }
}
