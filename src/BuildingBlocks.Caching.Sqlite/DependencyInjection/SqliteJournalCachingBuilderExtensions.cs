using BuildingBlocks.Caching;
using BuildingBlocks.Caching.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Makes the write-back caches registered with <c>AddCacheStrategies</c> journal their writes in a SQLite file.</summary>
public static class SqliteJournalCachingBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="SqliteWriteBackJournal"/> on <paramref name="path"/> as the <see cref="IWriteBackJournal"/>
    /// singleton (if none is registered yet), with options validated at start-up. Every write-back cache of the container
    /// then journals its writes before acknowledging them and replays the journal when it starts. The journal logs through
    /// the container's <see cref="ILoggerFactory"/> and is disposed with the container.
    /// </summary>
    /// <param name="builder">The builder <c>AddCacheStrategies</c> returned.</param>
    /// <param name="path">The journal file (created with its directory when missing).</param>
    /// <returns>The builder.</returns>
    public static ICachingBuilder UseSqliteJournal(this ICachingBuilder builder, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return builder.UseSqliteJournal(o => o.Path = path);
    }

    /// <summary>
    /// Registers <see cref="SqliteWriteBackJournal"/> as the <see cref="IWriteBackJournal"/> singleton (if none is
    /// registered yet), configured by <paramref name="configure"/> (which must set <see cref="SqliteJournalOptions.Path"/>,
    /// for example from configuration), with options validated at start-up.
    /// </summary>
    /// <param name="builder">The builder <c>AddCacheStrategies</c> returned.</param>
    /// <param name="configure">Sets the path and, optionally, the busy timeout.</param>
    /// <returns>The builder.</returns>
    public static ICachingBuilder UseSqliteJournal(this ICachingBuilder builder, Action<SqliteJournalOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<SqliteJournalOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteJournalOptions>, SqliteJournalOptionsValidator>());
        builder.Services.TryAddSingleton<IWriteBackJournal>(sp => new SqliteWriteBackJournal(
            sp.GetRequiredService<IOptions<SqliteJournalOptions>>().Value,
            sp.GetService<ILoggerFactory>()));
        return builder;
    }
}
