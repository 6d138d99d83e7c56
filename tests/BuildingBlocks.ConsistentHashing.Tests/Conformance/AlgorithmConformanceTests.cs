namespace BuildingBlocks.ConsistentHashing.Tests.Conformance;

public sealed class HashRingConformanceTests : ConsistentHashConformanceTests
{
    protected override ConsistentHashAlgorithm ExpectedAlgorithm => ConsistentHashAlgorithm.Ring;

    protected override IConsistentHash<string> Create(ConsistentHashOptions<string> options) => new HashRing<string>(options);
}

public sealed class JumpHashConformanceTests : ConsistentHashConformanceTests
{
    protected override ConsistentHashAlgorithm ExpectedAlgorithm => ConsistentHashAlgorithm.Jump;

    protected override bool MembersOrderedByKey => false;

    protected override bool SupportsWeights => false;

    protected override IConsistentHash<string> Create(ConsistentHashOptions<string> options) => new JumpHash<string>(options);

    // Jump only shrinks at the end without moving other buckets' keys.
    protected override string NodeToRemove(IConsistentHash<string> hash) => hash.Members[^1].Key;
}

public sealed class RendezvousHashConformanceTests : ConsistentHashConformanceTests
{
    protected override ConsistentHashAlgorithm ExpectedAlgorithm => ConsistentHashAlgorithm.Rendezvous;

    protected override IConsistentHash<string> Create(ConsistentHashOptions<string> options) => new RendezvousHash<string>(options);
}

public sealed class MaglevHashConformanceTests : ConsistentHashConformanceTests
{
    protected override ConsistentHashAlgorithm ExpectedAlgorithm => ConsistentHashAlgorithm.Maglev;

    // A table rebuild moves a few keys between nodes that did not change; the bound (< 2 × ideal) still applies.
    protected override bool MovesOnlyKeysOfTheChangedNode => false;

    protected override IConsistentHash<string> Create(ConsistentHashOptions<string> options) => new MaglevHash<string>(options);
}

public sealed class BoundedLoadHashRingConformanceTests : ConsistentHashConformanceTests
{
    protected override ConsistentHashAlgorithm ExpectedAlgorithm => ConsistentHashAlgorithm.BoundedLoad;

    // With no load placed, a bounded-load ring answers exactly like the plain ring underneath it.
    protected override IConsistentHash<string> Create(ConsistentHashOptions<string> options) => new BoundedLoadHashRing<string>(options);
}
