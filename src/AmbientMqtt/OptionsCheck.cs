using Microsoft.Extensions.Options;

namespace AmbientMqtt;

/// <summary>
/// The one way settings are checked: each options type has one <see cref="IValidateOptions{TOptions}"/>, which the host
/// runs at start-up (<c>ValidateOnStart</c>) and a constructor given the options directly runs too, so a check is
/// written once and reads the same either way: <c>Mqtt:Port: must be between 1 and 65535 (got 0)</c>.
/// </summary>
internal static class OptionsCheck
{
    /// <summary>Throws when <paramref name="options"/> fail their checks.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">A setting is wrong; the message names every wrong key.</exception>
    public static void ThrowIfInvalid<TOptions>(IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new ArgumentException(string.Join("; ", result.Failures ?? [result.FailureMessage]), nameof(options));
        }
    }

    /// <summary>Success, or a failure with one message per problem.</summary>
    public static ValidateOptionsResult Result(IReadOnlyList<string> errors)
        => errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
}
