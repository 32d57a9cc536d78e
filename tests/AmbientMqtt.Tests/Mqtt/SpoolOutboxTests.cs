using System.Collections.Concurrent;
using System.Text;
using AmbientMqtt.Mqtt;
using Microsoft.Extensions.Logging;

namespace AmbientMqtt.Tests.Mqtt;

/// <summary>The spool as a restarted publisher finds it: what survives, in which order, with which numbers, and what a
/// damaged file does (never an exception).</summary>
public sealed class SpoolOutboxTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ambientmqtt-spool-").FullName;
    private readonly Lines _log = new();

    private string SpoolPath => Path.Combine(_directory, "spool");

    [Fact]
    public void Open_AfterAddsWithoutSending_ReturnsEveryMessageOldestFirstWithItsNumber()
    {
        using (var spool = Open())
        {
            for (var i = 0; i < 5; i++)
            {
                Add(spool, $"m{i}").Should().Be(i);
            }
        }

        using var reopened = Open();
        reopened.Recovered.Should().Be(5);
        Drain(reopened).Should().Equal("m0#0", "m1#1", "m2#2", "m3#3", "m4#4");
        _log.Should().Contain(l => l.Contains("5 reading(s) kept from an earlier run (seq 0 to 4)", StringComparison.Ordinal));
    }

    [Fact]
    public void Remove_AfterPeek_MessageIsGoneAfterRestartAndNumbersContinue()
    {
        using (var spool = Open())
        {
            Add(spool, "a");
            Add(spool, "b");
            spool.TryPeek(-1, out var a, out _).Should().BeTrue();
            spool.Remove(a);
            spool.TryPeek(-1, out var b, out _).Should().BeTrue();
            spool.Remove(b);
            spool.Count.Should().Be(0);
            new FileInfo(SpoolPath).Length.Should().Be(SpoolOutbox.HeaderSize, "an empty spool is cut back to its header");
        }

        using var reopened = Open();
        reopened.Count.Should().Be(0);
        Add(reopened, "c").Should().Be(2, "the header keeps the next number across a restart");
    }

    [Fact]
    public void Remove_OfAMessageDroppedForRoomMeanwhile_RemovesNothingElse()
    {
        using var spool = Open(capacity: 2);
        Add(spool, "a");
        Add(spool, "b");
        spool.TryPeek(-1, out var id, out var peeked).Should().BeTrue();
        Encoding.UTF8.GetString(peeked).Should().Be("a#0");
        Add(spool, "c");
        spool.Remove(id);

        Drain(spool).Should().Equal("b#1", "c#2");
    }

    [Fact]
    public void TryPeek_AfterAnId_GivesTheNextSoSeveralCanBeInFlight()
    {
        using var spool = Open();
        Add(spool, "a");
        Add(spool, "b");
        Add(spool, "c");

        spool.TryPeek(-1, out var first, out _).Should().BeTrue();
        spool.TryPeek(first, out var second, out var payload).Should().BeTrue();
        Encoding.UTF8.GetString(payload).Should().Be("b#1");
        spool.Remove(second);
        spool.Count.Should().Be(3, "only the oldest leaves: b waits until a is acknowledged");
        spool.Remove(first);
        spool.Remove(second);

        Drain(spool).Should().Equal("c#2");
    }

    [Fact]
    public void Add_BeyondCapacity_DropsTheOldestAndCountsThem()
    {
        var dropped = new List<long>();
        using (var spool = Open(capacity: 3))
        {
            spool.Dropped += dropped.Add;
            for (var i = 0; i < 5; i++)
            {
                Add(spool, $"m{i}");
            }

            spool.Count.Should().Be(3);
            spool.DroppedCount.Should().Be(2);
            dropped.Should().Equal(1, 2);
        }

        using var reopened = Open(capacity: 3);
        Drain(reopened).Should().Equal("m2#2", "m3#3", "m4#4");
    }

    [Fact]
    public void Open_WithALowerCapacityThanTheFileHolds_DropsTheOldestBeyondWithOneLine()
    {
        using (var spool = Open(capacity: 10))
        {
            for (var i = 0; i < 6; i++)
            {
                Add(spool, $"m{i}");
            }
        }

        using var reopened = Open(capacity: 4);
        reopened.DroppedCount.Should().Be(2);
        Drain(reopened).Should().Equal("m2#2", "m3#3", "m4#4", "m5#5");
        _log.Should().ContainSingle(l => l.Contains("dropped the 2 oldest", StringComparison.Ordinal));
    }

    [Fact]
    public void Open_TornLastRecord_KeepsEveryRecordBeforeItAndAppendsAfterThem()
    {
        using (var spool = Open())
        {
            Add(spool, "a");
            Add(spool, "b");
        }

        // A kill -9 or power cut in the middle of an append: part of a record at the end.
        var torn = SpoolOutbox.Record(SpoolOutbox.DataKind, 2, Encoding.UTF8.GetBytes("{\"half\": 1}"));
        using (var file = new FileStream(SpoolPath, FileMode.Append))
        {
            file.Write(torn, 0, torn.Length - 5);
        }

        using (var reopened = Open())
        {
            _log.Should().ContainSingle(l => l.Contains("is torn", StringComparison.Ordinal) && l.Contains("every reading before it kept", StringComparison.Ordinal));
            Add(reopened, "c");
        }

        using var again = Open();
        Drain(again).Should().Equal("a#0", "b#1", "c#2");
        _log.Count(l => l.Contains("is torn", StringComparison.Ordinal)).Should().Be(1, "the torn bytes were cut off the first time");
    }

    [Fact]
    public void Open_ZeroFilledTail_IsATornRecordNotDamage()
    {
        using (var spool = Open())
        {
            Add(spool, "a");
        }

        // What a file system can leave after a power cut: the length grew, the data never arrived.
        using (var file = new FileStream(SpoolPath, FileMode.Append))
        {
            file.Write(new byte[300]);
        }

        using var reopened = Open();
        Drain(reopened).Should().Equal("a#0");
        _log.Should().ContainSingle(l => l.Contains("is torn", StringComparison.Ordinal));
        Directory.GetFiles(_directory, "spool.damaged-*").Should().BeEmpty();
    }

    [Fact]
    public void Open_DamagedRecordInside_KeepsWhatCameBeforeAndCopiesTheFileAside()
    {
        using (var spool = Open())
        {
            Add(spool, "first");
            Add(spool, "second");
            Add(spool, "third");
        }

        var bytes = File.ReadAllBytes(SpoolPath);
        var second = Encoding.UTF8.GetBytes("second#1");
        var at = bytes.AsSpan().IndexOf(second);
        bytes[at + 2] ^= 0x20;
        File.WriteAllBytes(SpoolPath, bytes);

        using var reopened = Open();
        Drain(reopened).Should().Equal("first#0");
        _log.Should().ContainSingle(l => l.Contains("is damaged (checksum mismatch)", StringComparison.Ordinal) && l.Contains("the 1 reading(s) before it kept", StringComparison.Ordinal));
        Directory.GetFiles(_directory, "spool.damaged-*").Should().ContainSingle()
            .Which.Should().Match(p => File.ReadAllBytes(p).SequenceEqual(bytes));
        Add(reopened, "fourth").Should().BeGreaterThan(2, "numbers the cut-off records may have had are never given again");
    }

    [Fact]
    public void Open_FileThatIsNotASpool_IsRenamedAsideAndANewOneStarted()
    {
        File.WriteAllText(SpoolPath, "these are not the readings you are looking for");

        using var spool = Open();
        spool.Count.Should().Be(0);
        Add(spool, "a").Should().Be(0);
        Directory.GetFiles(_directory, "spool.corrupt-*").Should().ContainSingle()
            .Which.Should().Match(p => File.ReadAllText(p).StartsWith("these are not", StringComparison.Ordinal));
        _log.Should().ContainSingle(l => l.Contains("is not a spool (bad header)", StringComparison.Ordinal));
    }

    [Fact]
    public void Open_WhileAnotherPublisherHasIt_Throws()
    {
        using var first = Open();

        var second = () => Open();

        second.Should().Throw<IOException>().WithMessage("*in use by another process*");
    }

    [Fact]
    public void Open_InADirectoryThatDoesNotExist_CreatesIt()
    {
        var path = Path.Combine(_directory, "var", "lib", "spool");

        using var spool = SpoolOutbox.Open(path, 10, _log);

        File.Exists(path).Should().BeTrue();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static long Add(SpoolOutbox spool, string text)
    {
        spool.Add(n => Encoding.UTF8.GetBytes($"{text}#{n}"), out var sequence);
        return sequence!.Value;
    }

    private static List<string> Drain(SpoolOutbox spool)
    {
        var taken = new List<string>();
        while (spool.TryPeek(-1, out var id, out var payload))
        {
            taken.Add(Encoding.UTF8.GetString(payload));
            spool.Remove(id);
        }

        return taken;
    }

    private SpoolOutbox Open(long capacity = 1000) => SpoolOutbox.Open(SpoolPath, capacity, _log);

    /// <summary>The log lines, as a user reads them.</summary>
    private sealed class Lines : ConcurrentQueue<string>, ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
