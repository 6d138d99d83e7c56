using System.Globalization;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>
/// Environment knobs: <c>SAGAS_SOAK_SECONDS</c> makes each kill loop keep adding sagas (and killing runs) for that many
/// seconds instead of the suite's short default; <c>SAGAS_CRASH_SEED</c> fixes the seed of the kill moments.
/// </summary>
internal static class CrashSettings
{
    public static TimeSpan AddWindow(TimeSpan suiteDefault) =>
        Environment.GetEnvironmentVariable("SAGAS_SOAK_SECONDS") is { Length: > 0 } text
            ? TimeSpan.FromSeconds(int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture))
            : suiteDefault;

    public static int Seed() =>
        Environment.GetEnvironmentVariable("SAGAS_CRASH_SEED") is { Length: > 0 } text
            ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
}
