namespace AmbientMqtt.Mqtt;

/// <summary>
/// A connection to the broker was made (or remade).
/// </summary>
public sealed class MqttConnectedEventArgs : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="endpoint">The broker as <c>host:port</c>.</param>
    /// <param name="resultCode">The CONNACK reason code; 0 is success.</param>
    /// <param name="isSessionPresent">Whether the broker still had the session of this client id.</param>
    /// <param name="isReconnect">Whether this connection replaces a lost one.</param>
    public MqttConnectedEventArgs(string endpoint, int resultCode, bool isSessionPresent, bool isReconnect)
    {
        Endpoint = endpoint;
        ResultCode = resultCode;
        IsSessionPresent = isSessionPresent;
        IsReconnect = isReconnect;
    }

    /// <summary>Gets the broker as <c>host:port</c>.</summary>
    public string Endpoint { get; }

    /// <summary>Gets the CONNACK reason code: 0 is success, as the tutorial's <c>Connected with result code 0</c>.</summary>
    public int ResultCode { get; }

    /// <summary>Gets a value indicating whether the broker still had this client's session.</summary>
    public bool IsSessionPresent { get; }

    /// <summary>Gets a value indicating whether this connection replaces a lost one.</summary>
    public bool IsReconnect { get; }
}
