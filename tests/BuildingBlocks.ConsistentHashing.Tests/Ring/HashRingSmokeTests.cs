using BuildingBlocks.ConsistentHashing;

namespace BuildingBlocks.ConsistentHashing.Tests.Ring;

public class HashRingSmokeTests
{
    [Fact]
    public void GetNode_WithThreeNodes_ReturnsAMember()
    {
        var ring = new HashRing<string>(new ConsistentHashOptions<string>());
        ring.Add("a");
        ring.Add("b");
        ring.Add("c");

        Assert.Contains(ring.GetNode("user:42"), new[] { "a", "b", "c" });
        Assert.Equal(480, ring.PointCount);
    }
}
