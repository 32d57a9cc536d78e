using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AmbientMqtt.Hosting;

/// <summary>
/// Binds an options object to its configuration section, turning a value that does not even convert
/// (<c>--Mqtt:Port=abc</c>) into an <see cref="OptionsValidationException"/> that names the key, like every other bad
/// setting, instead of the binder's <see cref="InvalidOperationException"/>; and refusing a bare number for a duration
/// (<c>Publish:Interval=5</c>), which .NET reads as five days.
/// </summary>
internal static partial class ConfigurationBinding
{
    /// <param name="section">The section.</param>
    /// <param name="options">The options to fill.</param>
    /// <param name="bind">The binding, written where the options type is known, so that the configuration binder's
    /// source generator replaces it with code of its own (no reflection, trimming and Native AOT safe).</param>
    public static void Bind<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TOptions>(
        IConfigurationSection section, TOptions options, Action<IConfiguration, TOptions> bind)
        where TOptions : class
    {
        var errors = new List<string>();
        foreach (var property in typeof(TOptions).GetProperties())
        {
            if ((property.PropertyType == typeof(TimeSpan) || property.PropertyType == typeof(TimeSpan?))
                && section[property.Name] is { } raw && IsBareNumber(raw))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{section.Path}:{property.Name}: '{raw}' is not a duration: write hh:mm:ss (00:00:05 for 5 seconds); a bare number would mean days"));
            }
        }

        if (errors.Count == 0)
        {
            try
            {
                bind(section, options);
            }
            catch (InvalidOperationException ex)
            {
                errors.Add(Describe(ex, typeof(TOptions)));
            }
        }

        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Microsoft.Extensions.Options.Options.DefaultName, typeof(TOptions), errors);
        }
    }

    /// <summary>
    /// <c>Mqtt:Port: 'abc' is not a whole number</c> from the binder's
    /// <c>Failed to convert configuration value 'abc' at 'Mqtt:Port' to type 'System.Int32'.</c>; the binder's own words
    /// when they do not have that shape.
    /// </summary>
    internal static string Describe(InvalidOperationException exception, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] Type optionsType)
    {
        var match = ConversionFailure().Match(exception.Message);
        if (!match.Success)
        {
            return exception.InnerException is { Message.Length: > 0 } inner && !exception.Message.Contains(inner.Message, StringComparison.Ordinal)
                ? $"{exception.Message} {inner.Message}"
                : exception.Message;
        }

        var path = match.Groups["path"].Value;
        var value = match.Groups["value"].Value;
        var property = optionsType.GetProperty(path[(path.LastIndexOf(':') + 1)..]);
        var expected = property is null ? $"a valid {match.Groups["type"].Value}" : Expected(property.PropertyType);
        return string.Create(CultureInfo.InvariantCulture, $"{path}: '{value}' is not {expected}");
    }

    private static string Expected(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type));
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32
                or TypeCode.Int64 or TypeCode.UInt64 => "a whole number",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            TypeCode.Boolean => "true or false",
            _ when type == typeof(TimeSpan) => "a duration such as 00:00:05 ([d.]hh:mm:ss[.fff])",
            _ => "a valid " + type.Name,
        };
    }

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex ConversionFailure();

    /// <summary>Digits, with a sign and spaces around them; checked by hand, not with a regular expression, so that a
    /// program whose settings are right never loads System.Text.RegularExpressions.</summary>
    private static bool IsBareNumber(string raw)
    {
        var text = raw.AsSpan().Trim();
        if (text is ['+' or '-', .. var rest])
        {
            text = rest;
        }

        return !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9');
    }
}
