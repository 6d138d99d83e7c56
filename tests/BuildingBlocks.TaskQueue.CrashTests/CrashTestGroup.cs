namespace BuildingBlocks.TaskQueue.CrashTests;

/// <summary>Crash tests start several processes each: they run one at a time so two of them never compete for the cores.</summary>
[CollectionDefinition(Name)]
public sealed class CrashTestGroup
{
    public const string Name = "Crash tests";
}
