namespace AmbientMqtt.Dashboard;

/// <summary>A query parameter is missing, unknown or wrong; answered 400 with the message, which names it.</summary>
internal sealed class BadParameterException(string parameter, string message) : Exception($"{parameter}: {message}")
{
    public string Parameter { get; } = parameter;
}
