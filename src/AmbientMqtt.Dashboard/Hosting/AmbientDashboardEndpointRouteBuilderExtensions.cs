using AmbientMqtt.Dashboard;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the dashboard's page and API into an ASP.NET Core application.</summary>
public static class AmbientDashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps <c>GET /</c> (the page and its scripts), <c>/api/nodes</c>, <c>/api/readings</c>, <c>/api/readings.csv</c>
    /// and <c>/api/live</c> under <paramref name="prefix"/>. Register the services first with
    /// <c>services.AddAmbientDashboard(…)</c>.
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <param name="prefix">Where the dashboard lives, such as <c>/dashboard</c>; the root by default.</param>
    /// <returns>The group of the dashboard's endpoints, for further conventions (authorization, CORS, …).</returns>
    public static RouteGroupBuilder MapAmbientDashboard(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var api = endpoints.ServiceProvider.GetService<DashboardApi>()
            ?? throw new InvalidOperationException("The dashboard's services are not registered: call services.AddAmbientDashboard(configuration) before MapAmbientDashboard().");
        var group = endpoints.MapGroup(prefix.TrimEnd('/'));
        group.MapMethods("/", ["GET", "HEAD"], api.PageAsync);
        foreach (var path in DashboardAssets.Instance.Paths)
        {
            group.MapMethods("/" + path, ["GET", "HEAD"], context => api.AssetAsync(context, path));
        }

        group.MapGet("/api/nodes", api.NodesAsync);
        group.MapGet("/api/readings", api.ReadingsAsync);
        group.MapGet("/api/readings.csv", api.CsvAsync);
        group.MapGet("/api/live", api.LiveAsync);
        return group;
    }
}
