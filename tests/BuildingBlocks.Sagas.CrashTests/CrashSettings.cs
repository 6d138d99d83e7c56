using System.Globalization;

namespace BuildingBlocks.Sagas.CrashTests;

/// <summary>
/// Environment knobs: <c>SAGAS_SOAK_SECONDS</c> makes each kill loop keep adding sagas (and killing runs) for that many
/// seconds instead of the suite's short default, and each freeze scenario run one freeze cycle per 8 of those seconds;
/// <c>SAGAS_CRASH_SEED</c> fixes the seed of the kill and freeze moments.
/// </summary>
internal static class CrashSettings
{
    private static int? SoakSeconds =>
        Environment.GetEnvironmentVariable("SAGAS_SOAK_SECONDS") is { Length: > 0 } text
            ? int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture)
            : null;

    public static TimeSpan AddWindow(TimeSpan suiteDefault) =>
        SoakSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : suiteDefault;

    public static int FreezeCycles(int suiteDefault) =>
        SoakSeconds is { } seconds ? Math.Max(suiteDefault, seconds / 8) : suiteDefault;

    public static int Seed() =>
        Environment.GetEnvironmentVariable("SAGAS_CRASH_SEED") is { Length: > 0 } text
            ? int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : Random.Shared.Next();
}
