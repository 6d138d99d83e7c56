using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BuildingBlocks.Caching;
using BuildingBlocks.Caching.Sqlite;

namespace BuildingBlocks.Benchmarks.Caching;

/// <summary>
/// Acknowledged writes: the time until <c>SetAsync</c> returns, per write, into a store that does nothing (so the
/// figures are the cache's own cost). "Single writer": one caller awaits 100,000 writes, one per key of 100,000 keys
/// in a seeded random order. "64 writers": 64 concurrent callers each await 1,000 writes of their own keys (64,000 per
/// invocation; the next invocation moves on to the next 64,000 of the 100,000 keys). Write-back with the SQLite
/// journal acknowledges a write once its journal append is committed (WAL, <c>synchronous=NORMAL</c>, group commit);
/// without a journal it acknowledges once the write is in L1 and the buffer. The baseline is write-through to the same
/// store. Package defaults otherwise (L1 10,000 entries, W-TinyLFU, flush every second, batches of 500, buffer of
/// 100,000 keys); the flusher runs in the background meanwhile, as it would in an application. An invocation takes
/// 50 ms to 3 s, so the job is fixed at 3 warm-up and 15 measured iterations.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 3, iterationCount: 15)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CacheWriteBenchmarks
{
    private const int KeyCount = 100_000;
    private const int SingleWriterWrites = 100_000;
    private const int Writers = 64;
    private const int WritesPerWriter = 1_000;
    private const int ConcurrentWrites = Writers * WritesPerWriter;

    private int[] _keys = [];
    private string[] _values = [];
    private int _offset;
    private Cache<int, string> _writeThrough = null!;
    private Cache<int, string> _writeBack = null!;
    private Cache<int, string> _journaled = null!;
    private SqliteWriteBackJournal _journal = null!;
    private string _directory = "";

    [GlobalSetup]
    public void Setup()
    {
        _keys = CachingFixture.ShuffledKeys(KeyCount, seed: 42);
        _values = new string[KeyCount];
        for (int i = 0; i < KeyCount; i++)
        {
            _values[i] = "value-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        _directory = Directory.CreateTempSubdirectory("bb-cache-bench-").FullName;
        _journal = new SqliteWriteBackJournal(new SqliteJournalOptions { Path = Path.Combine(_directory, "journal.db") });
        _writeThrough = NewCache("write-through", o => o.WriteThrough());
        _writeBack = NewCache("write-back", o => o.WriteBack());
        _journaled = NewCache("write-back-journal", o => o.WriteBack(wb => wb.Journal = _journal));
        _journaled.StartAsync().AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writeThrough.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _writeBack.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _journaled.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _journal.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [BenchmarkCategory("Single writer"), Benchmark(Baseline = true, OperationsPerInvoke = SingleWriterWrites, Description = "Write-through: SetAsync")]
    public Task WriteThrough_SingleWriter() => WriteAllAsync(_writeThrough);

    [BenchmarkCategory("Single writer"), Benchmark(OperationsPerInvoke = SingleWriterWrites, Description = "Write-back, no journal: SetAsync")]
    public Task WriteBack_SingleWriter() => WriteAllAsync(_writeBack);

    [BenchmarkCategory("64 writers"), Benchmark(Baseline = true, OperationsPerInvoke = ConcurrentWrites, Description = "Write-through: SetAsync × 64 writers")]
    public Task WriteThrough_64Writers() => WriteConcurrentlyAsync(_writeThrough);

    [BenchmarkCategory("64 writers"), Benchmark(OperationsPerInvoke = ConcurrentWrites, Description = "Write-back, no journal: SetAsync × 64 writers")]
    public Task WriteBack_64Writers() => WriteConcurrentlyAsync(_writeBack);

    [BenchmarkCategory("64 writers"), Benchmark(OperationsPerInvoke = ConcurrentWrites, Description = "Write-back, SQLite journal: SetAsync × 64 writers")]
    public Task WriteBackJournal_64Writers() => WriteConcurrentlyAsync(_journaled);

    private static Cache<int, string> NewCache(string name, Action<CacheOptions<int, string>> strategy)
    {
        var options = new CacheOptions<int, string>
        {
            Name = name,
            Expiration = CachingFixture.Lifetime,
            UseDistributedCache = false,
        };
        strategy(options);
        return new Cache<int, string>(new NoOpStore<int, string>(static _ => "loaded"), options);
    }

    private async Task WriteAllAsync(Cache<int, string> cache)
    {
        for (int i = 0; i < SingleWriterWrites; i++)
        {
            int key = _keys[i];
            await cache.SetAsync(key, _values[key]);
        }
    }

    private Task WriteConcurrentlyAsync(Cache<int, string> cache)
    {
        int offset = _offset;
        _offset = (_offset + ConcurrentWrites) % KeyCount;
        var writers = new Task[Writers];
        for (int w = 0; w < Writers; w++)
        {
            int start = offset + (w * WritesPerWriter);
            writers[w] = Task.Run(() => WriteRangeAsync(cache, start));
        }

        return Task.WhenAll(writers);
    }

    private async Task WriteRangeAsync(Cache<int, string> cache, int start)
    {
        for (int i = 0; i < WritesPerWriter; i++)
        {
            int key = _keys[(start + i) % KeyCount];
            await cache.SetAsync(key, _values[key]);
        }
    }
}
