using System.Collections.Frozen;
using System.Security.Cryptography;

namespace AmbientMqtt.Dashboard;

/// <summary>The page and its scripts and styles, compiled into the assembly (<c>wwwroot/</c>), read once.</summary>
internal sealed class DashboardAssets
{
    private static readonly Lazy<DashboardAssets> Shared = new(Load);

    private readonly FrozenDictionary<string, Asset> _assets;

    private DashboardAssets(FrozenDictionary<string, Asset> assets)
    {
        _assets = assets;
    }

    public static DashboardAssets Instance => Shared.Value;

    /// <summary>Gets the paths (relative to the dashboard's root, <c>index.html</c>, <c>vendor/uplot/uPlot.iife.min.js</c>, …).</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    public Asset? Find(string path) => _assets.TryGetValue(path, out var asset) ? asset : null;

    private static DashboardAssets Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            var path = name.Replace('\\', '/');
            if (!path.StartsWith("wwwroot/", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var content = memory.ToArray();
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8)) + "\"";
            assets[path["wwwroot/".Length..]] = new Asset(content, ContentType(path), etag);
        }

        return new DashboardAssets(assets.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".png" => "image/png",
        ".svg" => "image/svg+xml",
        _ => "text/plain; charset=utf-8",
    };

    internal sealed record Asset(byte[] Content, string ContentType, string ETag);
}
