using Microsoft.Extensions.Options;

namespace AmbientMqtt.Ingest;

/// <summary>Checks <see cref="IngestOptions"/>; each problem names its configuration key.</summary>
internal sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public static readonly IngestOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        var errors = new List<string>();
        void Check(bool ok, string key, string problem)
        {
            if (!ok)
            {
                errors.Add($"Ingest:{key}: {problem}");
            }
        }

        Check(options.MaxBatchSize is >= 1 and <= 10_000, nameof(options.MaxBatchSize), $"must be between 1 and 10000 (got {options.MaxBatchSize})");
        Check(options.MaxPayloadBytes is >= 256 and <= 256 * 1024 * 1024, nameof(options.MaxPayloadBytes), $"must be between 256 and 268435456 (got {options.MaxPayloadBytes})");
        Check(options.RetryDelay > TimeSpan.Zero, nameof(options.RetryDelay), $"must be positive (got {options.RetryDelay})");
        Check(options.MaxRetryDelay >= options.RetryDelay, nameof(options.MaxRetryDelay), "must not be shorter than Ingest:RetryDelay");
        Check(options.ShutdownTimeout >= TimeSpan.Zero, nameof(options.ShutdownTimeout), $"must not be negative (got {options.ShutdownTimeout})");
        Check(options.SlowWriteWarning > TimeSpan.Zero, nameof(options.SlowWriteWarning), $"must be positive (got {options.SlowWriteWarning})");
        Check(options.ReorderWindow >= TimeSpan.Zero, nameof(options.ReorderWindow), $"must not be negative (got {options.ReorderWindow})");
        return OptionsCheck.Result(errors);
    }
}
