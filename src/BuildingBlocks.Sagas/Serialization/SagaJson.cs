using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BuildingBlocks.Sagas;

/// <summary>The JSON defaults of this package: web defaults with reflection contracts unless the app turned reflection off.</summary>
internal static class SagaJson
{
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault, a feature switch that trimmed and AOT apps set to false, which removes the branch.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Guarded by JsonSerializer.IsReflectionEnabledByDefault, a feature switch that trimmed and AOT apps set to false, which removes the branch.")]
    public static JsonSerializerOptions ReadOnly(JsonSerializerOptions? options)
    {
        options ??= new JsonSerializerOptions(JsonSerializerDefaults.Web);
        if (!options.IsReadOnly)
        {
            if (options.TypeInfoResolver is null && JsonSerializer.IsReflectionEnabledByDefault)
            {
                options.TypeInfoResolver = new DefaultJsonTypeInfoResolver();
            }

            options.MakeReadOnly();
        }

        return options;
    }
}
