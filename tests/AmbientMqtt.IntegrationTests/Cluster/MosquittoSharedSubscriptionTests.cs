using System.Diagnostics;
using System.Globalization;
using AmbientMqtt.IntegrationTests.Infrastructure;
using MQTTnet;
using MQTTnet.Protocol;

namespace AmbientMqtt.IntegrationTests.Cluster;

/// <summary>
/// What mosquitto (2.0.11 on Debian 12) does with a shared subscription when one of three members dies, measured with
/// three <c>mosquitto_sub</c> processes (MQTT 5, QoS 1, persistent sessions) and one of them killed with SIGKILL: the
/// broker keeps routing every third message to the dead member's session, where it waits for that member's return; it
/// does not hand it to the two that are alive. When the dead member's session expires, what waited in it is gone. The
/// README's "More than one machine" rests on these two facts.
/// </summary>
public sealed class MosquittoSharedSubscriptionTests(MqttServer broker)
{
    private const int Count = 1500;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SharedSubscription_OneOfThreeMembersKilledAndRestarted5sLater_ItsShareWaitsForItAndNothingIsLost()
    {
        broker.RequireAvailable();
        RequireMosquittoSub();
        var (topic, members) = await StartMembersAsync(deadMemberSessionExpiry: 3600);
        await using var m0 = members[0];
        await using var m1 = members[1];
        await using var m2 = members[2];
        double killedAt = 0;
        double restartedAt = 0;
        Task? restart = null;

        await PublishAsync(topic, async seq =>
        {
            if (seq == Count / 3)
            {
                await m2.KillAsync();
                killedAt = Now();
                restart = Task.Run(
                    async () =>
                    {
                        await Task.Delay(TimeSpan.FromSeconds(5), Ct);
                        restartedAt = Now();
                        await m2.StartAsync();
                    },
                    Ct);
            }
        });
        await restart!;
        await WaitUntilAsync(() => members.SelectMany(m => m.Arrivals).Select(a => a.Seq).Distinct().Count() >= Count, TimeSpan.FromSeconds(30));

        var all = members.SelectMany(m => m.Arrivals.Select(a => (Member: m.ClientId, Arrival: a))).ToList();
        all.Select(a => a.Arrival.Seq).Distinct().Should().HaveCount(Count, "with a persistent session nothing is lost");

        // Published while m2 was dead: a share of them waited in m2's session, none went to the living members.
        var whileDead = all.Where(a => a.Arrival.PublishedAt >= killedAt && a.Arrival.PublishedAt < restartedAt).ToList();
        var waited = whileDead.Where(a => a.Member == m2.ClientId).Select(a => a.Arrival).ToList();
        var publishedWhileDead = whileDead.Select(a => a.Arrival.Seq).Distinct().Count();
        waited.Should().NotBeEmpty("mosquitto routes the dead member's turn to its session");
        waited.Should().OnlyContain(a => a.ArrivedAt >= restartedAt, "m2 was not there to receive them earlier");
        var share = (double)waited.Select(a => a.Seq).Distinct().Count() / publishedWhileDead;
        share.Should().BeInRange(0.25, 0.42, "round robin over three members, dead or alive");
        whileDead.Where(a => a.Member != m2.ClientId).Select(a => a.Arrival.Seq)
            .Intersect(waited.Select(a => a.Seq)).Should().BeEmpty("the living members never got the dead member's share");
        var waits = waited.Select(a => a.Wait).Order().ToList();
        var living = whileDead.Where(a => a.Member != m2.ClientId).Select(a => a.Arrival.Wait).Order().ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"mosquitto shared subscription, 3 members, 1 killed and back after 5 s: {publishedWhileDead} messages published while it was dead; "
            + $"{waited.Select(a => a.Seq).Distinct().Count()} ({share:P0}) waited for it, median {Percentile(waits, 0.5):0.00} s, longest {waits[^1]:0.00} s; "
            + $"the other {living.Count} reached the living members in {Percentile(living, 0.99) * 1000:0} ms at p99; "
            + $"{all.Count - Count} duplicate deliveries");
    }

    [Fact]
    public async Task SharedSubscription_KilledMemberWhoseSessionExpires_WhatWaitedInItIsLostNotSentToTheOthers()
    {
        broker.RequireAvailable();
        RequireMosquittoSub();
        const int Expiry = 2;
        var (topic, members) = await StartMembersAsync(deadMemberSessionExpiry: Expiry);
        await using var m0 = members[0];
        await using var m1 = members[1];
        await using var m2 = members[2];
        double killedAt = 0;

        await PublishAsync(topic, async seq =>
        {
            if (seq == Count / 3)
            {
                await m2.KillAsync();
                killedAt = Now();
            }
        });

        // Once the session has expired the broker stops routing to it, so the living members get everything after.
        await Task.Delay(TimeSpan.FromSeconds(Expiry + 1), Ct);
        const int After = 300;
        await PublishAsync(topic, _ => Task.CompletedTask, first: Count, count: After);
        await WaitUntilAsync(() => members.SelectMany(m => m.Arrivals).Count(a => a.Seq >= Count) >= After, TimeSpan.FromSeconds(10));

        var received = members.SelectMany(m => m.Arrivals).Select(a => a.Seq).ToHashSet();
        var lost = Enumerable.Range(0, Count + After).Where(s => !received.Contains(s)).ToList();
        lost.Should().NotBeEmpty("what waited in the expired session is deleted");
        lost.Should().OnlyContain(s => s >= Count / 3 && s < Count, "only messages routed to the dead member before its session expired");
        Enumerable.Range(Count, After).Should().OnlyContain(s => received.Contains(s), "after the expiry the living members get every message");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"mosquitto shared subscription, a killed member's session expiring after {Expiry} s: {lost.Count} of the {Count - Count / 3} messages "
            + $"published after the kill were lost (about a third of those published before the expiry); none after it");
        killedAt.Should().BeGreaterThan(0);
    }

    private static void RequireMosquittoSub()
    {
        if (SharedSubscriber.Binary is null)
        {
            ServerEnvironment.SkipOrFail("mosquitto_sub was not found (Debian package mosquitto-clients; ./test.sh installs it)");
        }
    }

    private async Task<(string Topic, SharedSubscriber[] Members)> StartMembersAsync(int deadMemberSessionExpiry)
    {
        var topic = $"test/{Guid.NewGuid():N}/bme";
        var group = "g" + Guid.NewGuid().ToString("N")[..8];
        var members = new[]
        {
            new SharedSubscriber(broker.Host, broker.Port, $"$share/{group}/{topic}", group + "-0", 3600),
            new SharedSubscriber(broker.Host, broker.Port, $"$share/{group}/{topic}", group + "-1", 3600),
            new SharedSubscriber(broker.Host, broker.Port, $"$share/{group}/{topic}", group + "-2", deadMemberSessionExpiry),
        };
        try
        {
            foreach (var member in members)
            {
                await member.StartAsync();
            }
        }
        catch
        {
            foreach (var member in members)
            {
                await member.DisposeAsync();
            }

            throw;
        }

        return (topic, members);
    }

    /// <summary>Publishes <paramref name="count"/> messages at QoS 1, about one a millisecond, calling <paramref name="before"/>
    /// before each.</summary>
    private async Task PublishAsync(string topic, Func<int, Task> before, int first = 0, int count = Count)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(broker.Host, broker.Port).WithClientId("pub-" + Guid.NewGuid().ToString("N")[..8]).Build(), Ct);
        for (var seq = first; seq < first + count; seq++)
        {
            await before(seq);
            var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(SharedSubscriber.Publish(seq))
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
            (await client.PublishAsync(message, Ct)).IsSuccess.Should().BeTrue();
            if (seq % 4 == 0)
            {
                await Task.Delay(1, Ct);
            }
        }

        await client.DisconnectAsync(cancellationToken: Ct);
    }

    private static async Task WaitUntilAsync(Func<bool> done, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!done() && clock.Elapsed < timeout)
        {
            await Task.Delay(100, Ct);
        }

        // Late duplicates, if any, come within a moment.
        await Task.Delay(300, Ct);
    }

    private static double Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Floor(p * sorted.Count))];
}
