using System.Text;
using System.Threading.Channels;
using AmbientMqtt.Ingest;
using NodaTime;

namespace AmbientMqtt.Tests.Ingest;

/// <summary>The pipeline against a subscriber and a repository of the tests' own: its public contracts only.</summary>
public sealed class IngestPipelineTests
{
    private static readonly Instant Start = Instant.FromUtc(2024, 10, 9, 6, 30, 0);

    [Fact]
    public async Task BothDeliveredAgainAfterALostConnection_TheReadingIsADuplicateAndTheBadPayloadIsSetAsideAgain()
    {
        var subscriber = new ScriptedSubscriber();
        var repository = new MemoryRepository();
        var pipeline = new IngestPipeline(subscriber, repository);
        var run = pipeline.RunAsync(TestContext.Current.CancellationToken);

        subscriber.Send(Reading(0));
        subscriber.Send("not a reading");
        (await pipeline.WaitForProcessedAsync(2, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeTrue();

        // The connection was lost before the acknowledgements went out: the broker sends both again. A reading has a
        // key that makes the copy a no-op; a bad payload has none, and two senders may well send the same bad bytes,
        // so it is set aside again rather than risk dropping one that was not a copy.
        subscriber.Send(Reading(0));
        subscriber.Send("not a reading");
        (await pipeline.WaitForProcessedAsync(4, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeTrue();
        await subscriber.StopReceivingAsync(TestContext.Current.CancellationToken);
        await run;

        repository.Rows.Should().HaveCount(1);
        repository.SetAside.Should().HaveCount(2).And.OnlyContain(r => r.Reason.Contains("JSON"));
        pipeline.Inserted.Should().Be(1);
        pipeline.Duplicates.Should().Be(1);
        pipeline.Rejected.Should().Be(2);
        subscriber.Acknowledged.Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public async Task TheSameBadPayloadSentTwiceByANode_IsSetAsideTwice()
    {
        var subscriber = new ScriptedSubscriber();
        var repository = new MemoryRepository();
        var pipeline = new IngestPipeline(subscriber, repository);
        var run = pipeline.RunAsync(TestContext.Current.CancellationToken);

        subscriber.Send("hello");
        (await pipeline.WaitForProcessedAsync(1, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeTrue();
        subscriber.Send("hello");
        (await pipeline.WaitForProcessedAsync(2, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeTrue();
        await subscriber.StopReceivingAsync(TestContext.Current.CancellationToken);
        await run;

        repository.SetAside.Should().HaveCount(2);
        pipeline.Rejected.Should().Be(2);
        pipeline.Duplicates.Should().Be(0);
    }

    [Fact]
    public async Task ADatabaseThatFailsOnce_LeavesTheBatchUnacknowledgedUntilItCommits()
    {
        var subscriber = new ScriptedSubscriber();
        var repository = new MemoryRepository { FailNext = 1 };
        var pipeline = new IngestPipeline(subscriber, repository, new IngestOptions { RetryDelay = TimeSpan.FromMilliseconds(50) });
        var run = pipeline.RunAsync(TestContext.Current.CancellationToken);

        subscriber.Send(Reading(0));
        subscriber.Send(Reading(1));
        (await pipeline.WaitForProcessedAsync(2, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeTrue();
        await subscriber.StopReceivingAsync(TestContext.Current.CancellationToken);
        await run;

        repository.Attempts.Should().BeGreaterThanOrEqualTo(2);
        repository.Rows.Should().HaveCount(2);
        subscriber.Acknowledged.Should().Equal(0, 1);
    }

    [Fact]
    public async Task NumberedReadingsThatNeverArrive_AreCountedAsMissing()
    {
        var subscriber = new ScriptedSubscriber();
        var repository = new MemoryRepository();
        var pipeline = new IngestPipeline(subscriber, repository, new IngestOptions { ReorderWindow = TimeSpan.FromMilliseconds(200) });
        var run = pipeline.RunAsync(TestContext.Current.CancellationToken);

        foreach (var seq in new long[] { 1, 2, 3, 7, 5, 8 })
        {
            subscriber.Send(Reading((int)seq, "node-7", seq));
        }

        (await pipeline.WaitForProcessedAsync(6, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeTrue();
        for (var i = 0; i < 100 && pipeline.Missing < 2; i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        await subscriber.StopReceivingAsync(TestContext.Current.CancellationToken);
        await run;
        pipeline.Missing.Should().Be(2, "4 and 6 never came; 5 came late and is no gap");
    }

    private static string Reading(int second, string? identifier = null, long? sequence = null)
        => AmbientPayload.EncodeToString(new AmbientReading(Start.Plus(Duration.FromSeconds(second)), 21.5, 50, 1000, identifier, sequence));

    private sealed class ScriptedSubscriber : IReadingSubscriber
    {
        private readonly Channel<ReceivedMessage> _messages = Channel.CreateUnbounded<ReceivedMessage>();
        private readonly List<int> _acknowledged = [];
        private int _next;

        public ChannelReader<ReceivedMessage> Messages => _messages.Reader;

        public IReadOnlyList<int> Acknowledged
        {
            get
            {
                lock (_acknowledged)
                {
                    return [.. _acknowledged];
                }
            }
        }

        public void Send(string payload)
            => _messages.Writer.TryWrite(new Message(this, _next++, Encoding.UTF8.GetBytes(payload))).Should().BeTrue();

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task StopReceivingAsync(CancellationToken cancellationToken = default)
        {
            _messages.Writer.TryComplete();
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Message(ScriptedSubscriber owner, int number, byte[] payload)
            : ReceivedMessage("raspi/bme", payload, SystemClock.Instance.GetCurrentInstant())
        {
            public override ValueTask AcknowledgeAsync(CancellationToken cancellationToken = default)
            {
                lock (owner._acknowledged)
                {
                    owner._acknowledged.Add(number);
                }

                return ValueTask.CompletedTask;
            }
        }
    }

    private sealed class MemoryRepository : IAmbientRepository
    {
        public HashSet<(string Identifier, Instant Timestamp)> Rows { get; } = [];

        public List<RejectedPayload> SetAside { get; } = [];

        public int FailNext { get; set; }

        public int Attempts { get; private set; }

        public Task EnsureSchemaAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public Task<BatchWriteResult> WriteBatchAsync(IReadOnlyList<AmbientReading> readings, IReadOnlyList<RejectedPayload> rejected, CancellationToken cancellationToken = default)
        {
            Attempts++;
            if (FailNext > 0)
            {
                FailNext--;
                throw new AmbientStorageException("the test's database is away") { IsTransient = true };
            }

            var rows = new List<StoredRow>();
            var inserted = 0;
            foreach (var reading in readings)
            {
                var identifier = reading.Identifier ?? "tochigi_iot_899";
                var isNew = Rows.Add((identifier, reading.Timestamp));
                inserted += isNew ? 1 : 0;
                rows.Add(new StoredRow(reading.Timestamp.ToDateTimeOffset(), identifier, reading.Temperature, reading.Humidity, reading.Pressure, isNew ? RowOutcome.Inserted : RowOutcome.Duplicate));
            }

            SetAside.AddRange(rejected);
            return Task.FromResult(new BatchWriteResult(inserted, readings.Count - inserted, rejected.Count, rows));
        }
    }
}
