using System.Globalization;
using System.Text;

namespace BuildingBlocks.Sagas;

/// <summary>Mermaid flowcharts of a definition (its steps, groups and compensations) and of one saga's actual path.</summary>
internal static class SagaMermaid
{
    public static string Definition(SagaBlueprint blueprint)
    {
        StringBuilder text = new();
        text.AppendLine("flowchart TD");
        text.Append("  start([\"").Append(Escape($"{blueprint.Name} v{blueprint.Version}")).AppendLine("\"])");
        List<string> previous = ["start"];
        List<string> compensations = [];
        for (int stage = 0; stage < blueprint.Layout.Count; stage++)
        {
            (string? group, IReadOnlyList<(string Step, bool HasCompensation)> steps) = blueprint.Layout[stage];
            List<string> entries = [];
            if (group is not null)
            {
                string fork = $"g{stage}";
                text.Append("  ").Append(fork).Append("{{\"").Append(Escape(group)).AppendLine(" (parallel)\"}}");
                Connect(text, previous, fork);
                entries.Add(fork);
            }

            List<string> exits = [];
            for (int branch = 0; branch < steps.Count; branch++)
            {
                string node = $"s{stage}_{branch}";
                text.Append("  ").Append(node).Append("[\"").Append(Escape(steps[branch].Step)).AppendLine("\"]");
                Connect(text, group is null ? previous : entries, node);
                exits.Add(node);
                if (steps[branch].HasCompensation)
                {
                    string undo = $"c{stage}_{branch}";
                    text.Append("  ").Append(undo).Append("[/\"undo ").Append(Escape(steps[branch].Step)).AppendLine("\"/]");
                    compensations.Add($"  {node} -. compensate .-> {undo}");
                }
            }

            if (group is not null)
            {
                string join = $"j{stage}";
                text.Append("  ").Append(join).AppendLine("((\" \"))");
                Connect(text, exits, join);
                exits = [join];
            }

            previous = exits;
        }

        text.AppendLine("  done([\"completed\"])");
        Connect(text, previous, "done");
        foreach (string line in compensations)
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }

    public static string Path(SagaRecord saga, IReadOnlyList<SagaEvent> events)
    {
        StringBuilder text = new();
        text.AppendLine("flowchart TD");
        text.AppendLine("  classDef ok fill:#d4f7d4,stroke:#2b8a3e");
        text.AppendLine("  classDef retry fill:#fff3bf,stroke:#e67700");
        text.AppendLine("  classDef bad fill:#ffe3e3,stroke:#c92a2a");
        text.AppendLine("  classDef undo fill:#e7f5ff,stroke:#1864ab");
        string previous = string.Empty;
        foreach (SagaEvent line in events)
        {
            string node = "e" + line.Sequence.ToString(CultureInfo.InvariantCulture);
            (string label, string style) = Describe(line);
            text.Append("  ").Append(node).Append("[\"").Append(line.Sequence.ToString(CultureInfo.InvariantCulture)).Append(". ").Append(Escape(label)).Append("\"]:::").AppendLine(style);
            if (previous.Length > 0)
            {
                text.Append("  ").Append(previous).Append(" --> ").AppendLine(node);
            }

            previous = node;
        }

        text.Append("  now([\"").Append(Escape($"{saga.Id}: {saga.Status}")).AppendLine("\"])");
        if (previous.Length > 0)
        {
            text.Append("  ").Append(previous).AppendLine(" --> now");
        }

        return text.ToString();
    }

    private static (string Label, string Style) Describe(SagaEvent line)
    {
        string attempt = line.Attempt > 0 ? $" (attempt {line.Attempt})" : string.Empty;
        string detail = line.Detail is null ? string.Empty : ": " + Shorten(line.Detail);
        return line.Kind switch
        {
            SagaEventKind.Started => ("started", "ok"),
            SagaEventKind.StepCompleted => ($"{line.Step} done{attempt}", "ok"),
            SagaEventKind.StepAttemptFailed => ($"{line.Step} failed{attempt}, retry{detail}", "retry"),
            SagaEventKind.StepFailed => ($"{line.Step} failed{attempt}{detail}", "bad"),
            SagaEventKind.CompensationCompleted => ($"undo {line.Step} done{attempt}", "undo"),
            SagaEventKind.CompensationAttemptFailed => ($"undo {line.Step} failed{attempt}, retry{detail}", "retry"),
            SagaEventKind.CompensationFailed => ($"undo {line.Step} failed{attempt}{detail}", "bad"),
            SagaEventKind.DeadlineExceeded => ("deadline passed", "bad"),
            SagaEventKind.Completed => ("completed", "ok"),
            SagaEventKind.Compensated => ("compensated", "undo"),
            SagaEventKind.Suspended => ($"suspended{detail}", "bad"),
            SagaEventKind.Retried => ($"retried by operator{detail}", "retry"),
            SagaEventKind.Resolved => ($"resolved by operator{detail}", "ok"),
            _ => (line.Kind.ToString(), "retry"),
        };
    }

    private static void Connect(StringBuilder text, List<string> from, string to)
    {
        foreach (string node in from)
        {
            text.Append("  ").Append(node).Append(" --> ").AppendLine(to);
        }
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 79), "…");

    private static string Escape(string text) => text
        .Replace("\"", "#quot;", StringComparison.Ordinal)
        .Replace("\r", " ", StringComparison.Ordinal)
        .Replace("\n", " ", StringComparison.Ordinal);
}
