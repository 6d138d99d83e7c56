using BuildingBlocks.TaskQueue.Conformance;
using BuildingBlocks.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BuildingBlocks.TaskQueue.Sqlite.Tests.DependencyInjection;

public sealed class SqliteTaskQueueBuilderExtensionsTests : IDisposable
{
    private readonly TempDirectory _directory = new("bb-sqlite-di");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task UseSqlite_ReplacesTheInMemoryDefault_WithASqliteStoreOnTheFile()
    {
        string path = _directory.File("tasks.db");
        var services = new ServiceCollection();
        services.AddTaskQueue().UseSqlite(path, o => o.BusyTimeout = TimeSpan.FromSeconds(5));
        await using ServiceProvider provider = services.BuildServiceProvider();

        ITaskStore store = provider.GetRequiredKeyedService<ITaskStore>("");
        ITaskQueue queue = provider.GetRequiredService<ITaskQueue>();

        SqliteTaskStore sqlite = Assert.IsType<SqliteTaskStore>(store);
        Assert.Equal(path, sqlite.DatabasePath);
        Assert.Same(store, provider.GetRequiredKeyedService<ITaskStore>(""));
        Assert.Equal(TimeSpan.FromSeconds(5), provider.GetRequiredService<IOptionsMonitor<SqliteTaskStoreOptions>>().Get("").BusyTimeout);
        Assert.Single(services, d => d.ServiceType == typeof(ITaskStore) && Equals(d.ServiceKey, ""));

        EnqueueResult result = await queue.EnqueueAsync(new NewTask("emails", new byte[] { 1, 2, 3 }), Ct);

        await using var reader = new SqliteTaskStore(new SqliteTaskStoreOptions { DataSource = path }, TimeProvider.System);
        TaskSnapshot? stored = await reader.GetAsync(result.TaskId, Ct);
        Assert.NotNull(stored);
        Assert.Equal("emails", stored.Queue);
    }

    [Fact]
    public async Task UseSqlite_OnANamedQueue_RegistersUnderThatName_AndLeavesTheDefaultQueueInMemory()
    {
        var services = new ServiceCollection();
        services.AddTaskQueue();
        services.AddTaskQueue("billing", configure: null).UseSqlite(_directory.File("billing.db"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.IsType<SqliteTaskStore>(provider.GetRequiredKeyedService<ITaskStore>("billing"));
        Assert.IsType<InMemoryTaskStore>(provider.GetRequiredKeyedService<ITaskStore>(""));
    }

    [Fact]
    public async Task UseSqlite_CalledTwice_KeepsOneStore_OnTheLastFile()
    {
        var services = new ServiceCollection();
        services.AddTaskQueue().UseSqlite(_directory.File("first.db")).UseSqlite(_directory.File("second.db"));
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(ITaskStore) && Equals(d.ServiceKey, ""));
        Assert.Equal(_directory.File("second.db"), Assert.IsType<SqliteTaskStore>(provider.GetRequiredKeyedService<ITaskStore>("")).DatabasePath);
    }

    [Fact]
    public async Task UseSqlite_StoreUsesTheContainersTimeProvider()
    {
        var time = new FakeTimeProvider(TaskStoreHarness.Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddTaskQueue().UseSqlite(_directory.File("tasks.db"));
        await using ServiceProvider provider = services.BuildServiceProvider();
        var s = new TaskStoreHarness(provider.GetRequiredKeyedService<ITaskStore>(""), time);
        await s.EnqueueAsync();

        LeasedTask claimed = await s.ClaimOneAsync();

        Assert.Equal(TaskStoreHarness.Start, claimed.ClaimedAt);
        Assert.Equal(TaskStoreHarness.Start + TaskStoreHarness.DefaultLease, claimed.LeaseExpiresAt);
    }

    [Fact]
    public async Task UseSqlite_WithAConnectionStringInsteadOfADataSource_UsesIt()
    {
        string path = _directory.File("by-connection-string.db");
        var services = new ServiceCollection();
        services.AddTaskQueue().UseSqlite("unused.db", o =>
        {
            o.DataSource = null;
            o.ConnectionString = $"Data Source={path}";
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Equal(path, Assert.IsType<SqliteTaskStore>(provider.GetRequiredKeyedService<ITaskStore>("")).DatabasePath);
    }

    [Fact]
    public async Task UseSqlite_WithInvalidOptions_FailsAtStartUp_NamingTheOption()
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTaskQueue("jobs", configure: null).UseSqlite("  ", o => o.BusyTimeout = TimeSpan.Zero);
        using IHost host = builder.Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        Assert.Contains("SqliteTaskStoreOptions['jobs'].DataSource is '  '; it must not be blank.", error.Message, StringComparison.Ordinal);
        Assert.Contains("SqliteTaskStoreOptions['jobs'].BusyTimeout is 00:00:00; it must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisposingTheContainer_DisposesTheStore()
    {
        var services = new ServiceCollection();
        services.AddTaskQueue().UseSqlite(_directory.File("tasks.db"));
        ServiceProvider provider = services.BuildServiceProvider();
        ITaskStore store = provider.GetRequiredKeyedService<ITaskStore>("");
        Assert.Empty(await store.GetStatisticsAsync(Ct));

        await provider.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.GetStatisticsAsync(Ct));
    }
}
