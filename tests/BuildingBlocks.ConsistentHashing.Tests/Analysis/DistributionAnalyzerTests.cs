using System.Buffers.Binary;
using BuildingBlocks.ConsistentHashing.Tests.Support;

namespace BuildingBlocks.ConsistentHashing.Tests.Analysis;

public class DistributionAnalyzerTests
{
    [Fact]
    public void Analyze_Ring_ReportsExactSharesAndNoStrayMoves()
    {
        DistributionReport report = Analyze(ConsistentHashAlgorithm.Ring, nodeCount: 40, keyCount: 40_000, trials: 4);

        Assert.Equal(ConsistentHashAlgorithm.Ring, report.Algorithm);
        Assert.Equal(40, report.NodeCount);
        Assert.Equal(160, report.VirtualNodes);
        Assert.Equal(40_000, report.KeyCount);
        Assert.True(report.ExactLoads);
        Assert.InRange(report.PeakToMean, 1.0 + double.Epsilon, 1.6);
        Assert.InRange(report.MinToMean, 0.4, 1.0 - double.Epsilon);
        Assert.InRange(report.RelativeStandardDeviation, 0.01, 0.2);
        Assert.Equal(0, report.StrayMoves);
        Assert.InRange(report.AddMoveRatio, 0.7, 1.3);
    }

    [Fact]
    public void Analyze_Jump_IsPerfectlyBalancedAndMovesOnlyTheChangedBucketsKeys()
    {
        DistributionReport report = Analyze(ConsistentHashAlgorithm.Jump, nodeCount: 20, keyCount: 40_000, trials: 3);

        Assert.False(report.ExactLoads);
        Assert.InRange(report.PeakToMean, 1.0, 1.1);
        Assert.Equal(0, report.StrayMoves);
        Assert.InRange(report.AddMoveRatio, 0.9, 1.1);
        Assert.InRange(report.RemoveMoveRatio, 0.9, 1.1);
    }

    [Fact]
    public void Analyze_Rendezvous_MovesOnlyTheChangedNodesKeys()
    {
        DistributionReport report = Analyze(ConsistentHashAlgorithm.Rendezvous, nodeCount: 10, keyCount: 20_000, trials: 3);

        Assert.Equal(0, report.StrayMoves);
        Assert.InRange(report.AddMoveRatio, 0.85, 1.15);
        Assert.InRange(report.RemoveMoveRatio, 0.85, 1.15);
    }

    [Fact]
    public void Report_DerivedValuesFollowFromTheMeasuredOnes()
    {
        DistributionReport report = Analyze(ConsistentHashAlgorithm.Maglev, nodeCount: 9, keyCount: 9_000, trials: 1);

        Assert.Equal(1.0 / 10, report.IdealMovedOnAdd, 12);
        Assert.Equal(1.0 / 9, report.IdealMovedOnRemove, 12);
        Assert.Equal(report.MovedOnAdd / report.IdealMovedOnAdd, report.AddMoveRatio, 12);
        Assert.Equal(report.MovedOnRemove / report.IdealMovedOnRemove, report.RemoveMoveRatio, 12);
        Assert.StartsWith("Maglev n=9 vnodes=160:", report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_IsDeterministic()
    {
        DistributionReport first = Analyze(ConsistentHashAlgorithm.Ring, nodeCount: 10, keyCount: 5_000, trials: 2);
        DistributionReport second = Analyze(ConsistentHashAlgorithm.Ring, nodeCount: 10, keyCount: 5_000, trials: 2);

        Assert.Equal(first.ToString(), second.ToString());
        Assert.Equal(first.MovedOnAdd, second.MovedOnAdd);
    }

    [Fact]
    public void Analyze_WithInvalidCounts_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentNullException>(() => DistributionAnalyzer.Analyze(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistributionAnalyzer.Analyze(new DistributionAnalysisOptions { NodeCount = 1, KeyCount = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistributionAnalyzer.Analyze(new DistributionAnalysisOptions { NodeCount = 2, KeyCount = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistributionAnalyzer.Analyze(new DistributionAnalysisOptions { NodeCount = 2, KeyCount = 10, MovementTrials = 0 }));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(123_456_789L)]
    [InlineData(-1L)]
    public void WriteSampleKey_IsTheNumberThenItsFmix64LittleEndian(long i)
    {
        byte[] key = new byte[16];

        DistributionAnalyzer.WriteSampleKey(i, key);

        Assert.Equal(i, BinaryPrimitives.ReadInt64LittleEndian(key));
        Assert.Equal(Reference.Fmix64((ulong)i), BinaryPrimitives.ReadUInt64LittleEndian(key.AsSpan(8)));
    }

    [Fact]
    public void AnalysisOptions_HaveTheDocumentedDefaults()
    {
        var options = new DistributionAnalysisOptions();

        Assert.Equal(ConsistentHashAlgorithm.Ring, options.Algorithm);
        Assert.Equal(100, options.NodeCount);
        Assert.Equal(160, options.VirtualNodes);
        Assert.Equal(1_000_000, options.KeyCount);
        Assert.Equal(10, options.MovementTrials);
        Assert.Equal(KeyHashAlgorithm.XxHash3, options.KeyHash);
        Assert.Equal(65_537, options.MaglevTableSize);
        Assert.Equal(0.25, options.BoundedLoadEpsilon);
    }

    private static DistributionReport Analyze(ConsistentHashAlgorithm algorithm, int nodeCount, int keyCount, int trials) =>
        DistributionAnalyzer.Analyze(new DistributionAnalysisOptions
        {
            Algorithm = algorithm,
            NodeCount = nodeCount,
            KeyCount = keyCount,
            MovementTrials = trials,
        });
}
