using Microsoft.Extensions.Options;

namespace AmbientMqtt.Dashboard;

/// <summary>Runs <see cref="DashboardOptions.Validate"/> when the host starts: one line per problem, naming the key.</summary>
internal sealed class DashboardOptionsValidator : IValidateOptions<DashboardOptions>
{
    public ValidateOptionsResult Validate(string? name, DashboardOptions options)
    {
        var problems = options.Validate();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
