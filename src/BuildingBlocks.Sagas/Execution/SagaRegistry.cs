namespace BuildingBlocks.Sagas;

/// <summary>The registered definitions by name and version; decides which definition resumes a stored saga.</summary>
internal sealed class SagaRegistry
{
    private readonly Dictionary<string, SortedList<int, SagaBlueprint>> _byName = new(StringComparer.Ordinal);

    public SagaRegistry(IEnumerable<SagaBlueprint> blueprints)
    {
        foreach (SagaBlueprint blueprint in blueprints)
        {
            if (!_byName.TryGetValue(blueprint.Name, out SortedList<int, SagaBlueprint>? versions))
            {
                versions = [];
                _byName.Add(blueprint.Name, versions);
            }

            if (versions.TryGetValue(blueprint.Version, out SagaBlueprint? existing))
            {
                throw new SagaDefinitionException(
                    $"Saga '{blueprint.Name}' version {blueprint.Version} is registered twice ({existing.GetType().GenericTypeArguments[0].Name} data): give each definition its own Name or Version.");
            }

            versions.Add(blueprint.Version, blueprint);
        }

        foreach ((string name, SortedList<int, SagaBlueprint> versions) in _byName)
        {
            Type dataType = versions.Values[0].DataType;
            if (versions.Values.Any(v => v.DataType != dataType))
            {
                throw new SagaDefinitionException($"The versions of saga '{name}' use different data types: every version must take the same type, since stored data is read with it.");
            }
        }

        Names = [.. _byName.Keys];
    }

    /// <summary>The definition names, for acquiring only the sagas this coordinator can run.</summary>
    public IReadOnlyCollection<string> Names { get; }

    public IEnumerable<SagaBlueprint> All => _byName.Values.SelectMany(v => v.Values);

    public SagaBlueprint Latest(string name) =>
        _byName.TryGetValue(name, out SortedList<int, SagaBlueprint>? versions)
            ? versions.Values[^1]
            : throw new SagaNotFoundException($"No saga definition is named '{name}'; registered: {Registered()}.");

    public SagaBlueprint? Find(string name, int version) =>
        _byName.TryGetValue(name, out SortedList<int, SagaBlueprint>? versions) && versions.TryGetValue(version, out SagaBlueprint? blueprint) ? blueprint : null;

    public SagaBlueprint ForData(Type dataType)
    {
        List<SagaBlueprint> matches = [.. _byName.Values.Select(v => v.Values[^1]).Where(b => b.DataType == dataType)];
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new SagaNotFoundException($"No saga definition takes data of type {dataType.FullName}: register one with AddSaga<TSaga, {dataType.Name}>(); registered: {Registered()}."),
            _ => throw new InvalidOperationException($"Sagas {string.Join(", ", matches.Select(m => $"'{m.Name}'"))} all take {dataType.Name}: pass SagaStartOptions.SagaName to say which to start."),
        };
    }

    /// <summary>Which definition runs a stored saga: its own version, or a newer one that declares it resumes it.</summary>
    public SagaResolution Resolve(SagaRecord saga, SagaProgress progress)
    {
        if (!_byName.TryGetValue(saga.Name, out SortedList<int, SagaBlueprint>? versions))
        {
            return SagaResolution.Skip($"no definition named '{saga.Name}' is registered here");
        }

        // A saga carried on by a newer version (ResumesVersions) runs as that version from then on.
        int version = progress.RunsAs ?? saga.Version;
        if (versions.TryGetValue(version, out SagaBlueprint? own))
        {
            return progress.Shape.Length > 0 && progress.Shape != own.Shape
                ? SagaResolution.Suspend(
                    $"saga '{saga.Name}' version {version} changed its steps (added, removed, renamed or reordered) after this saga started: "
                    + "keep the old definition registered under its version, give the changed one a new Version, and declare ResumesVersions only if the old steps still match by name")
                : SagaResolution.Run(own);
        }

        if (version > versions.Keys[^1])
        {
            return SagaResolution.Skip($"version {version} is newer than the registered versions (up to {versions.Keys[^1]})");
        }

        SagaBlueprint? resumer = versions.Values.Reverse().FirstOrDefault(b => b.ResumedVersions.Contains(version));
        if (resumer is null)
        {
            return SagaResolution.Suspend(
                $"saga '{saga.Name}' version {version} has no registered definition (registered versions: {string.Join(", ", versions.Keys)}): "
                + $"register the version-{version} definition alongside the new one, or declare saga.ResumesVersions({version}) in a newer version whose steps keep the old names, then retry the saga");
        }

        string? missing = progress.Steps.Where(s => s.Status != SagaStepStatus.Pending).Select(s => s.Name).FirstOrDefault(name => !resumer.HasStep(name));
        return missing is not null
            ? SagaResolution.Suspend($"saga '{saga.Name}' version {resumer.Version} resumes version {version}, but step '{missing}' that ran under version {version} is not in version {resumer.Version}")
            : SagaResolution.Run(resumer);
    }

    private string Registered() => _byName.Count == 0 ? "none" : string.Join(", ", _byName.Keys.Select(k => $"'{k}'"));
}
