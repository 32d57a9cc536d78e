using System.Globalization;
using System.Net;

namespace AmbientMqtt.Dashboard;

/// <summary>One <c>http://host:port</c> of <c>Dashboard:Urls</c>, as Kestrel will listen on it.</summary>
internal sealed class ListenAddress
{
    private ListenAddress(string host, IPAddress? address, int port)
    {
        Host = host;
        Address = address;
        Port = port;
    }

    /// <summary>Gets the host as written.</summary>
    public string Host { get; }

    /// <summary>Gets the address, <see langword="null"/> for <c>localhost</c> (both loopbacks).</summary>
    public IPAddress? Address { get; }

    /// <summary>Gets the port; 0 for a free one.</summary>
    public int Port { get; }

    /// <summary>Gets a value indicating whether only this machine can connect.</summary>
    public bool IsLoopback => Address is null || IPAddress.IsLoopback(Address);

    /// <summary>Gets a value indicating whether it listens on every interface.</summary>
    public bool IsAny => Address is not null && (Address.Equals(IPAddress.Any) || Address.Equals(IPAddress.IPv6Any));

    /// <summary>The same address on another port.</summary>
    public ListenAddress WithPort(int port) => new(Host, Address, port);

    public static bool TryParse(string url, out ListenAddress address, out string problem)
    {
        address = null!;
        problem = string.Empty;
        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            problem = "is https: the dashboard serves http only; for TLS put a reverse proxy (nginx, Caddy) in front of it";
            return false;
        }

        if (!url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            problem = "must start with http:// (for example http://127.0.0.1:8080)";
            return false;
        }

        var rest = url["http://".Length..].TrimEnd('/');
        if (rest.Contains('/', StringComparison.Ordinal))
        {
            problem = "must not have a path (the dashboard is served at the root)";
            return false;
        }

        var colon = rest.LastIndexOf(':');
        if (colon < 0 || (rest.StartsWith('[') && !rest[..colon].EndsWith(']')))
        {
            problem = "has no port (for example http://127.0.0.1:8080, or :0 for a free port)";
            return false;
        }

        var host = rest[..colon];
        if (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            problem = "has no valid port: it must be a number from 0 (a free port) to 65535";
            return false;
        }

        IPAddress? ip;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            ip = null;
        }
        else if (host is "*" or "+")
        {
            ip = IPAddress.IPv6Any;
        }
        else if (!IPAddress.TryParse(host.Trim('[', ']'), out ip))
        {
            problem = $"names host '{host}': it must be an IP address (127.0.0.1, 192.168.1.20, [::1]), localhost, or * for every interface";
            return false;
        }

        address = new ListenAddress(host, ip, port);
        return true;
    }
}
