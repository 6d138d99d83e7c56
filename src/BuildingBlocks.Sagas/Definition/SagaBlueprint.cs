using System.IO.Hashing;
using System.Text;

namespace BuildingBlocks.Sagas;

/// <summary>A validated definition, without its data type: what the registry, diagrams and the coordinator read.</summary>
internal abstract class SagaBlueprint
{
    public const int MaxNameLength = 100;

    protected SagaBlueprint(string name, int version, Type dataType, IReadOnlyCollection<int> resumedVersions, TimeSpan? deadline)
    {
        Name = name;
        Version = version;
        DataType = dataType;
        ResumedVersions = resumedVersions;
        Deadline = deadline;
    }

    public string Name { get; }

    public int Version { get; }

    public Type DataType { get; }

    public IReadOnlyCollection<int> ResumedVersions { get; }

    public TimeSpan? Deadline { get; }

    /// <summary>The stages as names: a single step is a one-name stage without group.</summary>
    public abstract IReadOnlyList<(string? Group, IReadOnlyList<(string Step, bool HasCompensation)> Steps)> Layout { get; }

    /// <summary>A fingerprint of the step layout, stored with each saga to catch a definition changed without a new version.</summary>
    public string Shape
    {
        get
        {
            StringBuilder text = new();
            foreach ((string? group, IReadOnlyList<(string Step, bool HasCompensation)> steps) in Layout)
            {
                text.Append(group ?? "-").Append('[');
                foreach ((string step, bool compensated) in steps)
                {
                    text.Append(step).Append(compensated ? "+c" : string.Empty).Append(';');
                }

                text.Append(']');
            }

            return XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(text.ToString())).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Serializes start data of this definition's type, checking it reads back.</summary>
    public abstract string SerializeStartData(SagaRuntime runtime, object data);

    /// <summary>Creates the execution of an acquired saga; throws <see cref="SagaDataException"/> when its data does not read.</summary>
    public abstract SagaExecution CreateExecution(SagaRecord record, SagaRuntime runtime, SagaProgress progress);

    public bool HasStep(string name) => Layout.Any(stage => stage.Steps.Any(s => s.Step == name));

    internal static string? NameProblem(string? name, string what)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return $"{what} is empty";
        }

        if (name.Length > MaxNameLength)
        {
            return $"{what} '{name[..20]}…' is {name.Length} characters long: at most {MaxNameLength}";
        }

        if (name.Any(char.IsControl))
        {
            return $"{what} '{name}' contains a control character";
        }

        return null;
    }
}
