using AmbientMqtt.IntegrationTests.Infrastructure;

namespace AmbientMqtt.IntegrationTests.Cluster;

/// <summary>The classes that share one private Galera cluster (<see cref="GaleraFixture"/>), started once for all of them.</summary>
[CollectionDefinition(Name)]
public sealed class GaleraCollection : ICollectionFixture<GaleraFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Galera";
}
