using System.Collections.Concurrent;
using System.Diagnostics;
using AmbientMqtt.Publishing;
using AmbientMqtt.Sensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using NodaTime;

namespace AmbientMqtt.Tests.Publishing;

public sealed class PublishingPipelineTests
{
    private static readonly DateTimeOffset Start = new(2024, 10, 7, 23, 54, 50, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RunAsync_FakeClock_TakesTheFirstReadingAtOnceThenOnePerInterval()
    {
        var time = new FakeTimeProvider(Start);
        var publisher = new RecordingPublisher();
        var pipeline = new PublishingPipeline(new SimulatedSensor(1, time), publisher, new PublishOptions { Interval = TimeSpan.FromSeconds(5) }, timeProvider: time);
        var events = new ConcurrentQueue<AmbientReading>();
        pipeline.ReadingPublished += (_, e) => events.Enqueue(e.Reading);
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync(stop.Token);
        await WaitForAsync(() => publisher.Readings.Count == 1);
        time.Advance(TimeSpan.FromSeconds(4.9));
        await Task.Delay(100, Ct);
        publisher.Readings.Should().HaveCount(1, "the interval has not passed yet");
        time.Advance(TimeSpan.FromSeconds(0.1));
        await WaitForAsync(() => publisher.Readings.Count == 2);
        time.Advance(TimeSpan.FromSeconds(5));
        await WaitForAsync(() => publisher.Readings.Count == 3);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        publisher.Readings.Select(r => r.Timestamp).Should().Equal(
            Instant.FromDateTimeOffset(Start),
            Instant.FromDateTimeOffset(Start.AddSeconds(5)),
            Instant.FromDateTimeOffset(Start.AddSeconds(10)));
        events.Should().Equal(publisher.Readings, "each reading handed over is announced, in order");
        pipeline.Published.Should().Be(3);
    }

    [Fact]
    public async Task RunAsync_PublishIdentifierSet_EveryReadingCarriesIt()
    {
        var time = new FakeTimeProvider(Start);
        var publisher = new RecordingPublisher();
        var pipeline = new PublishingPipeline(new SimulatedSensor(1, time), publisher, new PublishOptions { Identifier = "pi-kitchen" }, timeProvider: time);
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync(stop.Token);
        await WaitForAsync(() => publisher.Readings.Count == 1);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        publisher.Readings.Single().Identifier.Should().Be("pi-kitchen");
        AmbientPayload.EncodeToString(publisher.Readings.Single()).Should().EndWith(", \"identifier\": \"pi-kitchen\"}");
    }

    [Fact]
    public async Task RunAsync_SensorReadFails_LogsItAndPublishesAgainAtTheNextInterval()
    {
        var time = new FakeTimeProvider(Start);
        var publisher = new RecordingPublisher();
        var logger = new ListLogger();
        var sensor = new FlakySensor(new SimulatedSensor(1, time), failOnRead: 2);
        var pipeline = new PublishingPipeline(sensor, publisher, new PublishOptions { Interval = TimeSpan.FromSeconds(1) }, logger, time);
        using var stop = new CancellationTokenSource();

        var run = pipeline.RunAsync(stop.Token);
        await WaitForAsync(() => publisher.Readings.Count == 1);
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(() => pipeline.Failed == 1);
        time.Advance(TimeSpan.FromSeconds(1));
        await WaitForAsync(() => publisher.Readings.Count == 2);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        run.IsCompletedSuccessfully.Should().BeTrue("a failed read never stops the loop");
        publisher.Readings.Select(r => r.Timestamp).Should().Equal(Instant.FromDateTimeOffset(Start), Instant.FromDateTimeOffset(Start.AddSeconds(2)));
        logger.Entries.Should().ContainSingle().Which.Should().Be((LogLevel.Error, "Reading the sensor failed: loose wire; trying again at the next interval"));
    }

    [Fact]
    public void Constructor_IntervalTooShort_ThrowsNamingPublishInterval()
    {
        var act = () => new PublishingPipeline(new SimulatedSensor(), new RecordingPublisher(), new PublishOptions { Interval = TimeSpan.Zero });

        act.Should().Throw<ArgumentException>().WithMessage("Publish:Interval: must be between*");
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the loop should have got there");
            await Task.Delay(5, Ct);
        }
    }

    private sealed class RecordingPublisher : IReadingPublisher
    {
        private readonly ConcurrentQueue<AmbientReading> _readings = new();

        public IReadOnlyList<AmbientReading> Readings => [.. _readings];

        public Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask<AmbientReading> PublishAsync(AmbientReading reading, CancellationToken cancellationToken = default)
        {
            _readings.Enqueue(reading);
            return ValueTask.FromResult(reading);
        }

        public Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default) => Task.FromResult(true);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class FlakySensor(ISensorSource inner, int failOnRead) : ISensorSource
    {
        private int _reads;

        public ValueTask<AmbientReading> ReadAsync(CancellationToken cancellationToken = default)
            => ++_reads == failOnRead ? throw new SensorException("loose wire") : inner.ReadAsync(cancellationToken);
    }

    private sealed class ListLogger : ILogger<PublishingPipeline>
    {
        private readonly ConcurrentQueue<(LogLevel, string)> _entries = new();

        public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => _entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
