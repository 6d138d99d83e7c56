namespace BuildingBlocks.Sagas;

/// <summary>A definition registered with <c>AddSaga</c>: its type and how to get its blueprint from the services.</summary>
internal sealed class SagaRegistration
{
    public SagaRegistration(Type definitionType, Func<IServiceProvider, SagaBlueprint> blueprint)
    {
        DefinitionType = definitionType;
        Blueprint = blueprint;
    }

    public Type DefinitionType { get; }

    public Func<IServiceProvider, SagaBlueprint> Blueprint { get; }
}
