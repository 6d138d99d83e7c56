namespace BuildingBlocks.Sagas;

/// <summary>
/// A saga: its steps in the order they run, each with an action and (usually) a compensation. Derive from it, declare
/// the steps in <see cref="Define"/>, and register it with <c>services.AddSagas().AddSaga&lt;TSaga, TData&gt;()</c>.
/// The definition is a singleton: take services through its constructor, or per attempt from
/// <see cref="SagaStepContext{TData}.Services"/>.
/// </summary>
/// <typeparam name="TData">The saga data: saved as JSON after every step, passed to every step.</typeparam>
public abstract class SagaDefinition<TData>
    where TData : class
{
    private SagaBlueprint<TData>? _blueprint;

    /// <summary>The name sagas are stored under; keep it stable. Default: the type name.</summary>
    public virtual string Name => GetType().Name;

    /// <summary>
    /// The version: raise it when steps change (added, removed, renamed, reordered). A running saga keeps the version it
    /// started with; see <see cref="SagaBuilder{TData}.ResumesVersions"/>. Default 1.
    /// </summary>
    public virtual int Version => 1;

    /// <summary>The definition as a Mermaid flowchart (paste it into a Markdown file or mermaid.live).</summary>
    /// <returns>The diagram text.</returns>
    public string ToMermaid() => SagaMermaid.Definition(Blueprint);

    internal SagaBlueprint<TData> Blueprint => _blueprint ??= SagaBlueprint<TData>.Build(this);

    /// <summary>Declares the steps.</summary>
    /// <param name="saga">The builder.</param>
    protected abstract void Define(SagaBuilder<TData> saga);

    internal void DefineInto(SagaBuilder<TData> saga) => Define(saga);
}
