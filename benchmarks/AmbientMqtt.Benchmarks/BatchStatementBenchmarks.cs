using AmbientMqtt.Storage;
using BenchmarkDotNet.Attributes;
using MySqlConnector;
using NodaTime;

namespace AmbientMqtt.Benchmarks;

/// <summary>
/// What the MariaDB repository does on this side for one batch before the driver serializes it: zone conversion and
/// rounding of every reading, the statement text (cached by row count), and the parameters.
/// </summary>
[MemoryDiagnoser]
public class BatchStatementBenchmarks
{
    private readonly RowPreparation _preparation = new("Asia/Tokyo", "tochigi_iot_899", 16384);
    private readonly AmbientSql _sql = new("`Ambient`", "`Ambient_rejected`");
    private readonly List<MySqlParameter> _reusable = [];
    private AmbientReading[] _readings = [];

    [Params(1, 50, 500)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var start = Instant.FromUtc(2025, 1, 1, 0, 0);
        _readings = Enumerable.Range(0, Rows)
            .Select(i => new AmbientReading(start + Duration.FromMilliseconds(i), 20 + (i / 100.0), 50 + (i / 200.0), 1000 + (i / 300.0)))
            .ToArray();
    }

    [Benchmark]
    public int BuildBatch()
    {
        var rows = _preparation.Prepare(_readings);
        using var command = new MySqlCommand(_sql.InsertBatch(rows.Length));
        MariaDbAmbientRepository.FillPositionalRowParameters(command, rows, RowPreparation.Candidates(rows), _reusable);
        var count = command.Parameters.Count;
        command.Parameters.Clear();
        return count;
    }
}
