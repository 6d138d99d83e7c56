using System.Text.Json;
using System.Text.Json.Serialization;

namespace BuildingBlocks.Sagas;

/// <summary>The coordinator's record of a saga's steps, stored as JSON in <see cref="SagaRecord.Progress"/>.</summary>
internal sealed class SagaProgress
{
    /// <summary>The format version of this record.</summary>
    [JsonPropertyName("f")]
    public int Format { get; set; } = 1;

    /// <summary>The layout fingerprint of the definition the saga started with.</summary>
    [JsonPropertyName("shape")]
    public string Shape { get; set; } = string.Empty;

    /// <summary>The last history line number written.</summary>
    [JsonPropertyName("seq")]
    public long LastSequence { get; set; }

    /// <summary>The version of the definition running the saga when it is newer than the one it started with (ResumesVersions).</summary>
    [JsonPropertyName("as")]
    public int? RunsAs { get; set; }

    [JsonPropertyName("comp")]
    public bool Compensating { get; set; }

    [JsonPropertyName("deadline")]
    public DateTimeOffset? DeadlineAt { get; set; }

    [JsonPropertyName("steps")]
    public List<StepProgress> Steps { get; set; } = [];

    public StepProgress Step(string name)
    {
        foreach (StepProgress step in Steps)
        {
            if (step.Name == name)
            {
                return step;
            }
        }

        StepProgress added = new() { Name = name };
        Steps.Add(added);
        return added;
    }

    public StepProgress? Find(string name) => Steps.Find(s => s.Name == name);

    public string Serialize() => JsonSerializer.Serialize(this, SagaProgressJson.Default.SagaProgress);

    public static SagaProgress Deserialize(string text) =>
        JsonSerializer.Deserialize(text, SagaProgressJson.Default.SagaProgress) ?? throw new JsonException("The progress record is null.");

    internal sealed class StepProgress
    {
        [JsonPropertyName("n")]
        public string Name { get; set; } = string.Empty;

        [JsonPropertyName("s")]
        public SagaStepStatus Status { get; set; }

        /// <summary>The history line number of the action's completion: compensation runs in reverse of it.</summary>
        [JsonPropertyName("done")]
        public long CompletedSequence { get; set; }

        /// <summary>Failed action attempts recorded (the next attempt is this + 1).</summary>
        [JsonPropertyName("a")]
        public int Attempts { get; set; }

        /// <summary>When the first action attempt started, for the step timeout across restarts.</summary>
        [JsonPropertyName("t0")]
        public DateTimeOffset? FirstAttemptAt { get; set; }

        /// <summary>Failed compensation attempts recorded.</summary>
        [JsonPropertyName("ca")]
        public int CompensationAttempts { get; set; }
    }
}

[JsonSerializable(typeof(SagaProgress))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault, UseStringEnumConverter = false)]
internal sealed partial class SagaProgressJson : JsonSerializerContext;
