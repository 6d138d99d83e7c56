using BuildingBlocks.TaskQueue;
using BuildingBlocks.TaskQueue.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BuildingBlocks.Benchmarks.TaskQueue;

/// <summary>The stores the TaskQueue benchmarks run on.</summary>
public enum BenchmarkStore
{
    /// <summary><see cref="InMemoryTaskStore"/>.</summary>
    InMemory,

    /// <summary><see cref="SqliteTaskStore"/> on a WAL file in a fresh temp directory.</summary>
    Sqlite,
}

/// <summary>
/// What every TaskQueue benchmark shares: the queue name, 64-byte payloads, fresh SQLite files in a temp directory,
/// and a started host running the worker with one delegate handler.
/// </summary>
internal static class TaskQueueFixture
{
    public const string Queue = "bench";

    public const int PayloadBytes = 64;

    /// <summary>Hangfire's default worker count (five per core, at most 20); our handler gets the same concurrency.</summary>
    public static readonly int Concurrency = Math.Min(Environment.ProcessorCount * 5, 20);

    public static byte[] NewPayload(int seed)
    {
        byte[] payload = new byte[PayloadBytes];
        new Random(seed).NextBytes(payload);
        return payload;
    }

    /// <summary>Tasks for <see cref="Queue"/>, each with its own 64-byte payload array.</summary>
    public static NewTask[] NewTasks(int count)
    {
        var tasks = new NewTask[count];
        for (int i = 0; i < tasks.Length; i++)
        {
            tasks[i] = new NewTask(Queue, NewPayload(i));
        }

        return tasks;
    }

    /// <summary>Validated inserts as the client hands them to a store, each with its own 64-byte payload array.</summary>
    public static TaskInsert[] NewInserts(int count)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        var inserts = new TaskInsert[count];
        for (int i = 0; i < inserts.Length; i++)
        {
            inserts[i] = new TaskInsert
            {
                Queue = Queue,
                Payload = NewPayload(i),
                Priority = 0,
                EnqueuedAt = now,
                RunAt = now,
                MaxAttempts = 5,
            };
        }

        return inserts;
    }

    /// <summary>A path for a new database file, in a directory of its own under the temp directory.</summary>
    public static string NewDatabasePath()
    {
        string directory = Path.Combine(Path.GetTempPath(), "buildingblocks-benchmarks", $"taskqueue-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, "tasks.db");
    }

    /// <summary>Deletes the directory of a database file made by <see cref="NewDatabasePath"/> (the WAL and SHM files too).</summary>
    public static void DeleteDatabase(string? path)
    {
        if (path is null)
        {
            return;
        }

        SqliteConnection.ClearAllPools();
        string? directory = Path.GetDirectoryName(path);
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static ITaskStore CreateStore(BenchmarkStore store, string? path) => store switch
    {
        BenchmarkStore.InMemory => new InMemoryTaskStore(),
        BenchmarkStore.Sqlite => new SqliteTaskStore(new SqliteTaskStoreOptions { DataSource = path }),
        _ => throw new ArgumentOutOfRangeException(nameof(store), store, null),
    };

    public static void DisposeStore(ITaskStore? store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <summary>
    /// Builds and starts a host whose worker handles <see cref="Queue"/> with <paramref name="handler"/> at
    /// <see cref="Concurrency"/>, on the given store; no logging providers, default options otherwise.
    /// </summary>
    public static IHost StartHost(BenchmarkStore store, string? path, Func<TaskContext, CancellationToken, ValueTask> handler)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        ITaskQueueBuilder queue = builder.Services.AddTaskQueue();
        if (store == BenchmarkStore.Sqlite)
        {
            queue.UseSqlite(path!);
        }

        queue.AddHandler(Queue, handler, o => o.Concurrency = Concurrency);
        IHost host = builder.Build();
        host.StartAsync().GetAwaiter().GetResult();
        return host;
    }

    public static void StopHost(IHost? host)
    {
        if (host is null)
        {
            return;
        }

        host.StopAsync().GetAwaiter().GetResult();
        host.Dispose();
    }
}
