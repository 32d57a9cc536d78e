namespace AmbientMqtt;

/// <summary>A node (an identifier with at least one row) and its latest reading.</summary>
/// <param name="Identifier">The identifier stored with its rows.</param>
/// <param name="Latest">The row with the latest timestamp.</param>
public sealed record AmbientNode(string Identifier, StoredReading Latest);
