using AmbientMqtt.Ingest;
using Microsoft.Extensions.Time.Testing;

namespace AmbientMqtt.Tests.Ingest;

public sealed class GapDetectorTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly FakeTimeProvider _clock = new();
    private readonly List<GapDetector.Gap> _overflow = [];

    [Fact]
    public void ConsecutiveNumbers_AreNoGap()
    {
        var gaps = new GapDetector(Window, _clock);
        for (var seq = 1; seq <= 100; seq++)
        {
            gaps.Observe("node-7", seq, _overflow).Should().BeFalse();
        }

        Overdue(gaps, Window * 2).Should().BeEmpty();
    }

    [Fact]
    public void SkippedNumbers_AreReportedOnceTheWindowHasPassed_WithTheirBounds()
    {
        var gaps = new GapDetector(Window, _clock);
        gaps.Observe("node-7", 1200, _overflow);
        gaps.Observe("node-7", 1204, _overflow);

        Overdue(gaps, Window - TimeSpan.FromSeconds(1)).Should().BeEmpty("a late reading may still come");
        var reported = Overdue(gaps, TimeSpan.FromSeconds(2));
        reported.Should().Equal(new GapDetector.Gap("node-7", 1200, 1204));
        reported[0].Count.Should().Be(3);
        Overdue(gaps, Window * 2).Should().BeEmpty("each gap is reported once");
    }

    [Fact]
    public void ReorderedReadingsWithinTheWindow_FillTheirPlace()
    {
        var gaps = new GapDetector(Window, _clock);
        foreach (var seq in new long[] { 1, 5, 3, 2, 4, 6 })
        {
            gaps.Observe("n", seq, _overflow);
        }

        Overdue(gaps, Window * 2).Should().BeEmpty();
    }

    [Fact]
    public void AReadingLandingInsideARange_LeavesTheTwoSidesMissing()
    {
        var gaps = new GapDetector(Window, _clock);
        gaps.Observe("n", 10, _overflow);
        gaps.Observe("n", 20, _overflow);
        gaps.Observe("n", 15, _overflow);

        Overdue(gaps, Window * 2).Should().BeEquivalentTo(new[] { new GapDetector.Gap("n", 10, 15), new GapDetector.Gap("n", 15, 20) });
    }

    [Fact]
    public void Duplicates_AreNoGapAndDoNotMoveTheNumbering()
    {
        var gaps = new GapDetector(Window, _clock);
        foreach (var seq in new long[] { 1, 2, 2, 3, 1, 3, 4 })
        {
            gaps.Observe("n", seq, _overflow).Should().BeFalse();
        }

        Overdue(gaps, Window * 2).Should().BeEmpty();
    }

    [Fact]
    public void NodesAreCountedApart()
    {
        var gaps = new GapDetector(Window, _clock);
        gaps.Observe("a", 1, _overflow);
        gaps.Observe("b", 100, _overflow);
        gaps.Observe("a", 2, _overflow);
        gaps.Observe("b", 102, _overflow);

        Overdue(gaps, Window * 2).Should().Equal(new GapDetector.Gap("b", 100, 102));
    }

    [Fact]
    public void ANumberingThatStartsAgainFarBelow_IsFollowedWithoutAGap()
    {
        var gaps = new GapDetector(Window, _clock);
        gaps.Observe("n", 500_000, _overflow);
        gaps.Observe("n", 1, _overflow).Should().BeTrue("a publisher that lost its state starts again");
        gaps.Observe("n", 2, _overflow).Should().BeFalse();

        Overdue(gaps, Window * 2).Should().BeEmpty();
    }

    [Fact]
    public void ASeededNode_ReportsWhatWentMissingWhileThisProgramWasAway()
    {
        var gaps = new GapDetector(Window, _clock);
        gaps.Seed("n", 41);
        gaps.Knows("n").Should().BeTrue();
        gaps.Observe("n", 45, _overflow);

        Overdue(gaps, Window * 2).Should().Equal(new GapDetector.Gap("n", 41, 45));
    }

    [Fact]
    public void ASeedNeverReplacesWhatThisRunHasSeen()
    {
        var gaps = new GapDetector(Window, _clock);
        gaps.Observe("n", 100, _overflow);
        gaps.Seed("n", 10);
        gaps.Observe("n", 101, _overflow);

        Overdue(gaps, Window * 2).Should().BeEmpty();
    }

    [Fact]
    public void MoreRangesThanItKeeps_ReportsTheOldestAtOnce()
    {
        var gaps = new GapDetector(Window, _clock);
        for (long seq = 0; seq <= 2 * 1001; seq += 2)
        {
            gaps.Observe("n", seq, _overflow);
        }

        _overflow.Should().Equal(new GapDetector.Gap("n", 0, 2));
    }

    private List<GapDetector.Gap> Overdue(GapDetector gaps, TimeSpan advance)
    {
        _clock.Advance(advance);
        var found = new List<GapDetector.Gap>();
        gaps.CollectOverdue(found);
        return found;
    }
}
