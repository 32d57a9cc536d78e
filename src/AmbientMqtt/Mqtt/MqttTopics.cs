using System.Text;
using MQTTnet;

namespace AmbientMqtt.Mqtt;

/// <summary>
/// Topic templates (<c>raspi/{identifier}/bme</c>): the topic a publisher sends to, the filter a subscriber subscribes
/// to, the node a topic names, and the checks that keep a bad topic a setting error instead of a protocol failure.
/// </summary>
internal static class MqttTopics
{
    private const string Placeholder = MqttConnectionOptions.IdentifierPlaceholder;

    /// <summary>The availability topic template of <paramref name="options"/>, or <see langword="null"/> when off.</summary>
    /// <remarks>Unset, it is the topic followed by <c>/status</c>; a topic with wildcards (a subscriber's
    /// <c>raspi/#</c>) has no such sibling, and availability is then off unless set.</remarks>
    public static string? AvailabilityTemplate(MqttConnectionOptions options) => options.AvailabilityTopic switch
    {
        null when options.Topic is null || options.Topic.AsSpan().IndexOfAny('+', '#') >= 0 => null,
        null => options.Topic + "/status",
        { Length: 0 } => null,
        var topic => topic,
    };

    /// <summary>A template with the node's identifier in its place.</summary>
    public static string Resolve(string template, string? identifier) =>
        template.Contains(Placeholder, StringComparison.Ordinal)
            ? template.Replace(Placeholder, identifier ?? string.Empty, StringComparison.Ordinal)
            : template;

    /// <summary>The filter that matches the topic of every node: <c>+</c> in the placeholder's place.</summary>
    public static string Filter(string template) => template.Replace(Placeholder, "+", StringComparison.Ordinal);

    /// <summary>Which level of the topic holds the node's identifier, or -1.</summary>
    public static int IdentifierLevel(string template)
    {
        var levels = template.Split('/');
        return Array.IndexOf(levels, Placeholder);
    }

    /// <summary>The level <paramref name="level"/> of <paramref name="topic"/>, or <see langword="null"/>.</summary>
    public static string? Level(string topic, int level)
    {
        if (level < 0)
        {
            return null;
        }

        var start = 0;
        for (var i = 0; i < level; i++)
        {
            start = topic.IndexOf('/', start) + 1;
            if (start == 0)
            {
                return null;
            }
        }

        var end = topic.IndexOf('/', start);
        var value = end < 0 ? topic[start..] : topic[start..end];
        return value.Length == 0 ? null : value;
    }

    /// <summary>Whether <paramref name="topic"/> matches the subscription <paramref name="filter"/>.</summary>
    public static bool Matches(string topic, string filter) =>
        MqttTopicFilterComparer.Compare(topic, filter) == MqttTopicFilterCompareResult.IsMatch;

    /// <summary>Why <paramref name="template"/> cannot be a topic template, or <see langword="null"/>.</summary>
    /// <param name="template">The template.</param>
    /// <param name="forSubscriber">Whether wildcards (<c>+</c>, <c>#</c>) are allowed: a subscriber's filter.</param>
    public static string? Check(string? template, bool forSubscriber)
    {
        if (string.IsNullOrEmpty(template))
        {
            return "is empty";
        }

        if (template.Contains('\0', StringComparison.Ordinal) || Encoding.UTF8.GetByteCount(template) > 65_535)
        {
            return $"'{template}' is not an MQTT topic (a NUL character, or longer than 65,535 bytes)";
        }

        if (template.StartsWith("$share/", StringComparison.OrdinalIgnoreCase))
        {
            return $"'{template}' names a shared subscription; set the topic alone and Mqtt:SharedGroup for the group";
        }

        var levels = template.Split('/');
        var placeholders = 0;
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains(Placeholder, StringComparison.Ordinal))
            {
                if (level != Placeholder)
                {
                    return $"'{template}': {Placeholder} must be a whole level, between slashes (raspi/{Placeholder}/bme)";
                }

                placeholders++;
                continue;
            }

            if (level.Contains('{', StringComparison.Ordinal) || level.Contains('}', StringComparison.Ordinal))
            {
                return $"'{template}': the only placeholder a topic may hold is {Placeholder}";
            }

            if (!forSubscriber && (level.Contains('+', StringComparison.Ordinal) || level.Contains('#', StringComparison.Ordinal)))
            {
                return $"'{template}': a topic readings are published to cannot hold the wildcards + or #";
            }

            if (level.Contains('#', StringComparison.Ordinal) && (level != "#" || i != levels.Length - 1))
            {
                return $"'{template}': the wildcard # must be a whole level and the last one (raspi/#)";
            }

            if (level.Contains('+', StringComparison.Ordinal) && level != "+")
            {
                return $"'{template}': the wildcard + must be a whole level (raspi/+/bme)";
            }
        }

        return placeholders > 1 ? $"'{template}': {Placeholder} may appear once" : null;
    }
}
