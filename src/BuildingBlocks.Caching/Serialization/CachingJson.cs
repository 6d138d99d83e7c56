using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace BuildingBlocks.Caching;

/// <summary>The JSON defaults of this package: web defaults with reflection contracts unless the app turned reflection off.</summary>
internal static class CachingJson
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
                // Reflection-based contracts unless the app disabled them (native AOT), where a source-generated context is required.
                options.TypeInfoResolver = new DefaultJsonTypeInfoResolver();
            }

            options.MakeReadOnly();
        }

        return options;
    }

    /// <summary>The contract of <typeparamref name="T"/>, with a message that says what to do when there is none.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options)
    {
        try
        {
            return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        }
        catch (Exception exception) when (exception is NotSupportedException or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"No JSON contract for {typeof(T).FullName}: set CacheOptions.JsonOptions to options whose TypeInfoResolver (for example a source-generated JsonSerializerContext) includes it, or set a ValueSerializer.",
                exception);
        }
    }
}
