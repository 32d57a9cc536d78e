namespace AmbientMqtt.Logging;

/// <summary>
/// Every log line of the library, source-generated. Event ids come in ranges, one file per area:
/// 1000–1999 sensors, 2000–2999 MQTT (<c>Log.Mqtt.cs</c>), 3000–3999 storage (<c>Log.Storage.cs</c>),
/// 4000–4999 the ingest pipeline (<c>Log.Ingest.cs</c>), 5000–5999 the publishing loop and hosting (<c>Log.Hosting.cs</c>).
/// </summary>
/// <remarks>No line ever carries a password or a connection string with its password.</remarks>
internal static partial class Log
{
}
