using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace AmbientMqtt.Dashboard;

/// <summary>
/// <c>Dashboard:Password</c> as HTTP Basic authentication: any user name, the password compared in constant time. A
/// browser asks once and sends it with every request of the page, <c>/api/live</c> included; curl takes
/// <c>-u :password</c>. Over plain http it travels readable on the network: beyond a trusted LAN, put TLS in front.
/// </summary>
internal sealed class BasicAuthentication(string? password)
{
    private readonly byte[]? _hash = password is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(password));

    /// <summary>Whether the request may proceed; otherwise a 401 is already written.</summary>
    public bool Check(HttpContext context)
    {
        if (_hash is null)
        {
            return true;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon >= 0 && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(decoded[(colon + 1)..])), _hash))
                {
                    return true;
                }
            }
            catch (FormatException)
            {
                // Not base64: answered like a wrong password.
            }
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers[HeaderNames.WWWAuthenticate] = "Basic realm=\"AmbientMqtt dashboard\", charset=\"UTF-8\"";
        context.Response.ContentType = "text/plain; charset=utf-8";
        return false;
    }
}
