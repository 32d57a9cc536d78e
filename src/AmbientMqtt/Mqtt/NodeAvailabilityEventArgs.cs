using NodaTime;

namespace AmbientMqtt.Mqtt;

/// <summary>A node's availability topic said <c>online</c> or <c>offline</c>.</summary>
public sealed class NodeAvailabilityEventArgs : EventArgs
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="identifier">The node, from the availability topic's <c>{identifier}</c> level (empty when it has none).</param>
    /// <param name="online">Whether the node is online.</param>
    /// <param name="at">When the subscriber learnt it.</param>
    public NodeAvailabilityEventArgs(string identifier, bool online, Instant at)
    {
        Identifier = identifier;
        Online = online;
        At = at;
    }

    /// <summary>Gets the node (empty when the availability topic names none).</summary>
    public string Identifier { get; }

    /// <summary>Gets a value indicating whether the node is online.</summary>
    public bool Online { get; }

    /// <summary>Gets when the subscriber learnt it (a retained message arrives on every subscription).</summary>
    public Instant At { get; }
}
