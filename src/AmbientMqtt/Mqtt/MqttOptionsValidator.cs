using Microsoft.Extensions.Options;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Checks <see cref="MqttPublisherOptions"/> and <see cref="MqttSubscriberOptions"/>: the broker settings they share
/// once, then each one's own. Each problem names its configuration key: <c>Mqtt:Port: must be between 1 and 65535 (got 0)</c>.
/// </summary>
internal sealed class MqttOptionsValidator : IValidateOptions<MqttPublisherOptions>, IValidateOptions<MqttSubscriberOptions>
{
    public const string Section = "Mqtt";

    public static readonly MqttOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, MqttPublisherOptions options)
    {
        var errors = Common(options, forSubscriber: false);
        var needsIdentifier = options.Topic?.Contains(MqttConnectionOptions.IdentifierPlaceholder, StringComparison.Ordinal) == true
            || (options.Topic is not null && MqttTopics.AvailabilityTemplate(options)?.Contains(MqttConnectionOptions.IdentifierPlaceholder, StringComparison.Ordinal) == true);
        if (options.Identifier is { } identifier)
        {
            if (AmbientPayload.CheckIdentifier(identifier) is { } problem)
            {
                errors.Add($"Publish:Identifier: {problem.Replace("field 'identifier': ", string.Empty, StringComparison.Ordinal)}");
            }
            else if (identifier.AsSpan().IndexOfAny("/+#") >= 0)
            {
                errors.Add($"Publish:Identifier: '{identifier}' cannot hold '/', '+' or '#': it becomes a level of the topic");
            }
        }
        else if (needsIdentifier)
        {
            errors.Add($"Publish:Identifier: is missing; {Section}:Topic or {Section}:AvailabilityTopic holds {MqttConnectionOptions.IdentifierPlaceholder}, which the node's identifier replaces");
        }

        Check(errors, options.QueueCapacity >= 1, nameof(options.QueueCapacity), $"must be at least 1 (got {options.QueueCapacity})");
        if (options.SpoolPath is { } spool)
        {
            if (string.IsNullOrWhiteSpace(spool) || spool.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add("Publish:SpoolPath: is empty; set a file path (the directory is created), or remove the key for no spool");
            }
            else if (Directory.Exists(spool))
            {
                errors.Add($"Publish:SpoolPath: '{spool}' is a directory; name a file in it (such as {Path.Combine(spool, "spool")})");
            }

            if (options.Qos == 0)
            {
                errors.Add("Publish:SpoolPath: needs Mqtt:Qos 1 or 2 (a reading leaves the spool when the broker acknowledges it, and QoS 0 has no acknowledgement)");
            }
        }

        if (options.SpoolMaxReadings < 1)
        {
            errors.Add($"Publish:SpoolMaxReadings: must be at least 1 (got {options.SpoolMaxReadings})");
        }
        return OptionsCheck.Result(errors);
    }

    public ValidateOptionsResult Validate(string? name, MqttSubscriberOptions options)
    {
        var errors = Common(options, forSubscriber: true);
        Check(errors, options.SessionExpiry >= TimeSpan.FromMinutes(1) && options.SessionExpiry.TotalSeconds <= uint.MaxValue,
            nameof(options.SessionExpiry), $"must be at least 00:01:00, so that a restart does not lose the session (got {options.SessionExpiry})");
        Check(errors, options.ReceiveMaximum is >= 1 and <= 65535, nameof(options.ReceiveMaximum), $"must be between 1 and 65535 (got {options.ReceiveMaximum})");
        Check(errors, options.MaxPacketSize is >= 1024 and <= 268_435_455, nameof(options.MaxPacketSize), $"must be between 1024 and 268435455 bytes (got {options.MaxPacketSize})");
        Check(errors, options.MaxUnacknowledgedBytes >= options.MaxPacketSize, nameof(options.MaxUnacknowledgedBytes),
            $"must be at least {Section}:MaxPacketSize ({options.MaxPacketSize}), so that one message fits (got {options.MaxUnacknowledgedBytes})");

        // What is held, plus a packet being read and its payload's copy, must fit the managed heap with room to spare:
        // a program with a heap ceiling (MqttInsert's runtimeconfig sets 64 MB) would otherwise run out of memory on the
        // first large message, and an out-of-memory crash is restarted forever.
        var heap = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var needed = options.MaxUnacknowledgedBytes + (2L * options.MaxPacketSize);
        if (heap > 0 && needed > heap / 2 && options.MaxPacketSize >= 1024)
        {
            errors.Add($"{Section}:{nameof(options.MaxPacketSize)}: {options.MaxPacketSize} bytes, with {Section}:MaxUnacknowledgedBytes {options.MaxUnacknowledgedBytes}, "
                + $"needs up to {needed} bytes of memory, more than half of this program's managed heap ({heap} bytes: System.GC.HeapHardLimit in its runtimeconfig.json, "
                + "or DOTNET_GCHeapHardLimit); lower them, or raise the heap limit with them");
        }
        Check(errors, options.Connections is >= 1 and <= 64, nameof(options.Connections), $"must be between 1 and 64 (got {options.Connections})");
        if (options.SharedGroup is { } group)
        {
            Check(errors, group.Length > 0 && group.AsSpan().IndexOfAny("/+#") < 0 && !group.Any(char.IsWhiteSpace),
                nameof(options.SharedGroup), $"'{group}' must be a name without '/', '+', '#' or spaces");
        }

        return OptionsCheck.Result(errors);
    }

    private static List<string> Common(MqttConnectionOptions o, bool forSubscriber)
    {
        var errors = new List<string>();
        Check(errors, !string.IsNullOrWhiteSpace(o.Host), nameof(o.Host), "is empty; set the broker's host name or address");
        Check(errors, o.Port is >= 1 and <= 65535, nameof(o.Port), $"must be between 1 and 65535 (got {o.Port})");
        if (MqttTopics.Check(o.Topic, forSubscriber) is { } topic)
        {
            errors.Add($"{Section}:{nameof(o.Topic)}: {topic}");
        }

        if (o.AvailabilityTopic is { Length: > 0 } availability && MqttTopics.Check(availability, forSubscriber: false) is { } problem)
        {
            errors.Add($"{Section}:{nameof(o.AvailabilityTopic)}: {problem}");
        }

        Check(errors, !string.IsNullOrEmpty(o.AvailabilityOnline), nameof(o.AvailabilityOnline), "is empty");
        Check(errors, !string.IsNullOrEmpty(o.AvailabilityOffline), nameof(o.AvailabilityOffline), "is empty");
        Check(errors, o.AvailabilityOnline != o.AvailabilityOffline, nameof(o.AvailabilityOffline), $"must differ from {Section}:AvailabilityOnline");
        Check(errors, o.ClientId is null || (o.ClientId.Length is > 0 and <= 200 && !o.ClientId.Any(char.IsWhiteSpace)),
            nameof(o.ClientId), "must be 1 to 200 characters without spaces");
        Check(errors, o.Password is null || o.Username is not null, nameof(o.Password), $"is set but {Section}:Username is not");
        Check(errors, string.IsNullOrEmpty(o.CaFile) || o.UseTls, nameof(o.CaFile), $"is set but {Section}:UseTls is not true");
        Check(errors, string.IsNullOrEmpty(o.CaFile) || File.Exists(o.CaFile), nameof(o.CaFile), $"no such file '{o.CaFile}'");
        Check(errors, string.IsNullOrEmpty(o.ClientCertificate) || o.UseTls, nameof(o.ClientCertificate), $"is set but {Section}:UseTls is not true");
        Check(errors, string.IsNullOrEmpty(o.ClientCertificate) == string.IsNullOrEmpty(o.ClientKey),
            string.IsNullOrEmpty(o.ClientKey) ? nameof(o.ClientKey) : nameof(o.ClientCertificate),
            $"{Section}:ClientCertificate and {Section}:ClientKey go together (the certificate and its private key, PEM files)");
        Check(errors, string.IsNullOrEmpty(o.ClientCertificate) || File.Exists(o.ClientCertificate), nameof(o.ClientCertificate), $"no such file '{o.ClientCertificate}'");
        Check(errors, string.IsNullOrEmpty(o.ClientKey) || File.Exists(o.ClientKey), nameof(o.ClientKey), $"no such file '{o.ClientKey}'");
        Check(errors, o.Qos is >= 0 and <= 2, nameof(o.Qos), $"must be 0, 1 or 2 (got {o.Qos})");
        Check(errors, o.KeepAlive >= TimeSpan.Zero && o.KeepAlive <= TimeSpan.FromSeconds(ushort.MaxValue), nameof(o.KeepAlive), $"must be between 00:00:00 and 18:12:15 (got {o.KeepAlive})");
        Check(errors, o.ConnectTimeout > TimeSpan.Zero, nameof(o.ConnectTimeout), $"must be positive (got {o.ConnectTimeout})");
        Check(errors, o.ReconnectDelay > TimeSpan.Zero, nameof(o.ReconnectDelay), $"must be positive (got {o.ReconnectDelay})");
        Check(errors, o.MaxReconnectDelay >= o.ReconnectDelay, nameof(o.MaxReconnectDelay), $"must not be shorter than {Section}:ReconnectDelay");
        Check(errors, o.SocketBufferSize is >= 8192 and <= 64 * 1024 * 1024, nameof(o.SocketBufferSize), $"must be between 8192 and 67108864 (got {o.SocketBufferSize})");
        return errors;
    }

    private static void Check(List<string> errors, bool ok, string key, string problem)
    {
        if (!ok)
        {
            errors.Add($"{Section}:{key}: {problem}");
        }
    }
}
