using System.Globalization;
using System.Text.RegularExpressions;

namespace BuildingBlocks.Caching.IntegrationTests.Crash;

/// <summary>
/// What the crash host's runs acknowledged, in order: per key the last acknowledged value, and the values of writes
/// begun after it but never acknowledged (the write in flight when the process was killed: it may or may not have
/// been journaled, so the store may end with it).
/// </summary>
internal sealed partial class AcknowledgementLedger
{
    private readonly Dictionary<int, string> _lastAcknowledged = [];
    private readonly Dictionary<int, List<string>> _unacknowledgedSince = [];

    public int Acknowledgements { get; private set; }

    public IReadOnlyDictionary<int, string> LastAcknowledged => _lastAcknowledged;

    /// <summary>Reads one run's BEGIN and ACK lines (a line cut by the kill has no trailing " ." and is ignored).</summary>
    public int Read(IEnumerable<string> lines)
    {
        int acknowledged = 0;
        foreach (string line in lines)
        {
            Match match = ProtocolLine().Match(line);
            if (!match.Success)
            {
                continue;
            }

            int key = int.Parse(match.Groups["key"].Value, CultureInfo.InvariantCulture);
            string value = match.Groups["value"].Value;
            if (match.Groups["kind"].Value == "BEGIN")
            {
                if (!_unacknowledgedSince.TryGetValue(key, out List<string>? begun))
                {
                    _unacknowledgedSince[key] = begun = [];
                }

                begun.Add(value);
            }
            else
            {
                _lastAcknowledged[key] = value;
                _unacknowledgedSince.Remove(key);
                acknowledged++;
            }
        }

        Acknowledgements += acknowledged;
        return acknowledged;
    }

    /// <summary>
    /// Compares the store with the acknowledged state: every acknowledged key holds its last acknowledged value (or a
    /// later write that was in flight at a kill); no key holds an older value; the store has no key nobody wrote.
    /// </summary>
    /// <returns>The mismatches, and how many keys hold an in-flight (unacknowledged) value.</returns>
    public (List<string> Mismatches, int InFlightKept) Compare(IReadOnlyDictionary<int, string> store)
    {
        var mismatches = new List<string>();
        int inFlightKept = 0;
        foreach (int key in _lastAcknowledged.Keys.Union(_unacknowledgedSince.Keys).Union(store.Keys).Order())
        {
            string? stored = store.GetValueOrDefault(key);
            List<string> inFlight = _unacknowledgedSince.GetValueOrDefault(key) ?? [];
            if (_lastAcknowledged.TryGetValue(key, out string? acknowledged))
            {
                if (stored == acknowledged)
                {
                    continue;
                }

                if (stored is not null && inFlight.Contains(stored))
                {
                    inFlightKept++;
                    continue;
                }

                mismatches.Add($"key {key}: the store holds {stored ?? "nothing"}, the last acknowledged value is {acknowledged}{(inFlight.Count > 0 ? $" (in flight after it: {string.Join(", ", inFlight)})" : string.Empty)}");
            }
            else if (stored is not null)
            {
                if (inFlight.Contains(stored))
                {
                    inFlightKept++;
                    continue;
                }

                mismatches.Add($"key {key}: the store holds {stored}, which was never written");
            }
        }

        return (mismatches, inFlightKept);
    }

    [GeneratedRegex(@"^(?<kind>BEGIN|ACK) (?<key>\d+) (?<value>\S+) \.$")]
    private static partial Regex ProtocolLine();
}
