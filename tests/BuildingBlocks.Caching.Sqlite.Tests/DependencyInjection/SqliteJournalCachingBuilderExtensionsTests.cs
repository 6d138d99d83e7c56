using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.Caching.Sqlite.Tests.DependencyInjection;

public sealed class SqliteJournalCachingBuilderExtensionsTests : IDisposable
{
    private readonly TempDirectory _directory = new("bb-journal-di");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task UseSqliteJournal_RegistersOneSingletonJournalOnThePath()
    {
        string path = _directory.File("journal.db");
        var services = new ServiceCollection();
        ICachingBuilder builder = new TestCachingBuilder(services);

        Assert.Same(builder, builder.UseSqliteJournal(path));
        await using ServiceProvider provider = services.BuildServiceProvider();

        IWriteBackJournal journal = provider.GetRequiredService<IWriteBackJournal>();
        Assert.Equal(path, Assert.IsType<SqliteWriteBackJournal>(journal).DatabasePath);
        Assert.Same(journal, provider.GetRequiredService<IWriteBackJournal>());
        ServiceDescriptor descriptor = Assert.Single(services, d => d.ServiceType == typeof(IWriteBackJournal));
        Assert.Equal(ServiceLifetime.Singleton, descriptor.Lifetime);

        await journal.AppendAsync(new JournalEntry("users", [1], [2], 1), Ct);
        Assert.Single(await journal.ReadAsync("users", Ct));
    }

    [Fact]
    public async Task UseSqliteJournal_WithConfigure_SetsTheOptions()
    {
        string path = _directory.File("configured.db");
        var services = new ServiceCollection();
        new TestCachingBuilder(services).UseSqliteJournal(o =>
        {
            o.Path = path;
            o.BusyTimeout = TimeSpan.FromSeconds(5);
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        SqliteJournalOptions options = provider.GetRequiredService<IOptions<SqliteJournalOptions>>().Value;
        Assert.Equal((path, TimeSpan.FromSeconds(5)), (options.Path, options.BusyTimeout));
        Assert.Equal(path, Assert.IsType<SqliteWriteBackJournal>(provider.GetRequiredService<IWriteBackJournal>()).DatabasePath);
    }

    [Fact]
    public async Task UseSqliteJournal_CalledTwice_KeepsOneJournalAndOneValidator()
    {
        var services = new ServiceCollection();
        var builder = new TestCachingBuilder(services);
        builder.UseSqliteJournal(_directory.File("first.db")).UseSqliteJournal(_directory.File("second.db"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IWriteBackJournal));
        Assert.Single(provider.GetServices<IValidateOptions<SqliteJournalOptions>>());
        Assert.IsType<SqliteWriteBackJournal>(provider.GetRequiredService<IWriteBackJournal>());
    }

    [Fact]
    public async Task UseSqliteJournal_DoesNotReplaceAJournalRegisteredBefore()
    {
        var services = new ServiceCollection();
        var mine = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = _directory.File("mine.db") });
        services.AddSingleton<IWriteBackJournal>(mine);
        new TestCachingBuilder(services).UseSqliteJournal(_directory.File("journal.db"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(mine, provider.GetRequiredService<IWriteBackJournal>());
        await mine.DisposeAsync();
    }

    [Fact]
    public async Task UseSqliteJournal_InvalidOptions_FailTheHostAtStartWithAMessageNamingTheOption()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        new TestCachingBuilder(builder.Services).UseSqliteJournal("   ");
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("SqliteJournalOptions.Path is '   '; it must not be blank.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheJournal_IsDisposedWithTheContainer_AsyncOrNot()
    {
        var services = new ServiceCollection();
        new TestCachingBuilder(services).UseSqliteJournal(_directory.File("journal.db"));
        IWriteBackJournal journal;
        await using (ServiceProvider provider = services.BuildServiceProvider())
        {
            journal = provider.GetRequiredService<IWriteBackJournal>();
            await journal.AppendAsync(new JournalEntry("users", [1], [2], 1), Ct);
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await journal.AppendAsync(new JournalEntry("users", [1], [2], 2), Ct));

        using (ServiceProvider provider = services.BuildServiceProvider())
        {
            journal = provider.GetRequiredService<IWriteBackJournal>();
            Assert.Single(await journal.ReadAsync("users", Ct));
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await journal.ReadAsync("users", Ct));
    }

    [Fact]
    public async Task TheJournal_LogsThroughTheContainersLoggerFactory_WithStableEventIds()
    {
        var services = new ServiceCollection();
        var logs = new FakeLogCollector();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(logs)));
        string path = _directory.File("journal.db");
        new TestCachingBuilder(services).UseSqliteJournal(path);
        await using (ServiceProvider provider = services.BuildServiceProvider())
        {
            await provider.GetRequiredService<IWriteBackJournal>().AppendAsync(new JournalEntry("users", [1], [2], 1), Ct);
        }

        FakeLogRecord opened = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3200);
        Assert.Equal(("JournalOpened", LogLevel.Information, "BuildingBlocks.Caching.Sqlite"), (opened.Id.Name, opened.Level, opened.Category));
        Assert.Equal($"Write-back journal '{path}' opened: schema version 1, created now: True.", opened.Message);
        FakeLogRecord closed = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 3204);
        Assert.Equal($"Write-back journal '{path}' closed after 1 transactions of 1 operations.", closed.Message);
    }

    private sealed class TestCachingBuilder(IServiceCollection services) : ICachingBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
