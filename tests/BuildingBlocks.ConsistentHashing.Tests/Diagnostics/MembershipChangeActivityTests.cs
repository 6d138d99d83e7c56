using System.Collections.Concurrent;
using System.Diagnostics;

namespace BuildingBlocks.ConsistentHashing.Tests.Diagnostics;

public sealed class MembershipChangeActivityTests : IDisposable
{
    private const string ChangeTag = "buildingblocks.consistent_hashing.change";
    private const string NodesTag = "buildingblocks.consistent_hashing.nodes";
    private const string VersionTag = "buildingblocks.consistent_hashing.version";

    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public MembershipChangeActivityTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ConsistentHashingDiagnostics.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public void EachMembershipChange_IsWrappedInOneActivityWithItsKindNodeCountAndVersion()
    {
        // Other tests change membership concurrently: pick this test's activities out by a node count nobody else uses.
        var hash = new RendezvousHash<string>(new ConsistentHashOptions<string>());
        hash.SetNodes(Enumerable.Range(0, 23).Select(i => new WeightedNode<string>($"activity-{i}")));
        hash.Replace("activity-0", "activity-x");
        hash.Add("activity-y");
        hash.Remove("activity-y");
        hash.SetNodes(hash.Members.Select(m => new WeightedNode<string>(m.Node))); // no change: no activity

        Activity[] mine =
        [
            .. _stopped.Where(a => a.OperationName == ConsistentHashingDiagnostics.MembershipChangeActivity
                && Equals(a.GetTagItem(ConsistentHashingDiagnostics.AlgorithmTag), "Rendezvous")
                && a.GetTagItem(NodesTag) is int nodes && nodes is 23 or 24),
        ];

        Assert.Equal(["Reset", "Replace", "Add", "Remove"], mine.Select(a => (string?)a.GetTagItem(ChangeTag)));
        Assert.Equal([23, 23, 24, 23], mine.Select(a => (int)a.GetTagItem(NodesTag)!));
        Assert.Equal([1L, 2L, 3L, 4L], mine.Select(a => (long)a.GetTagItem(VersionTag)!));
        Assert.Equal(4, hash.Version);
    }

    [Fact]
    public void FailedMembershipCalls_StartNoActivityThatCompletes()
    {
        var hash = new MaglevHash<string>(new ConsistentHashOptions<string> { MaglevTableSize = 7 });
        hash.SetNodes(Enumerable.Range(0, 7).Select(i => new WeightedNode<string>($"activity-full-{i}")));

        Assert.Throws<InvalidOperationException>(() => hash.Add("activity-full-7"));

        Assert.DoesNotContain(_stopped, a => Equals(a.GetTagItem(ConsistentHashingDiagnostics.AlgorithmTag), "Maglev")
            && a.GetTagItem(NodesTag) is 8 && a.GetTagItem(VersionTag) is not null);
    }
}
