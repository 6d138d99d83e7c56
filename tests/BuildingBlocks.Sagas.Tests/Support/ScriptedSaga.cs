namespace BuildingBlocks.Sagas.Tests.Support;

/// <summary>What a <see cref="ScriptedSaga{TData, TSlot}"/> is: a name, a version and its steps, given by the test.</summary>
public sealed class SagaScript<TData, TSlot>(string name, int version, Action<SagaBuilder<TData>> define)
    where TData : class
{
    public string Name { get; } = name;

    public int Version { get; } = version;

    public Action<SagaBuilder<TData>> Define { get; } = define;
}

/// <summary>
/// A definition whose name, version and steps come from the test (through DI). <typeparamref name="TSlot"/> only makes
/// each registration its own type, so a host can hold several (versions of one saga, or different sagas).
/// </summary>
public sealed class ScriptedSaga<TData, TSlot>(SagaScript<TData, TSlot> script) : SagaDefinition<TData>
    where TData : class
{
    public override string Name => script.Name;

    public override int Version => script.Version;

    protected override void Define(SagaBuilder<TData> saga) => script.Define(saga);
}

public sealed class Slot0;

public sealed class Slot1;

public sealed class Slot2;

public sealed class Slot3;

public sealed class Slot4;
