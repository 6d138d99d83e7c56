using System.Collections.Concurrent;
using BuildingBlocks.Caching.Tests.Support;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.WriteBack;

/// <summary>A graceful stop while writers are still writing: every write that was acknowledged must reach the store.</summary>
public sealed class ShutdownTests
{
    private const int WritesPerWriter = 3000;

    [Fact]
    public async Task StopUnderLoad_EveryAcknowledgedWriteReachesTheStore()
    {
        for (int round = 0; round < 30; round++)
        {
            var store = new RecordingStore();
            var acknowledged = new ConcurrentBag<string>();
            int refused = 0;
            Cache<string, string> cache = Create(store, o => o.WriteBack(w =>
            {
                w.FlushInterval = TimeSpan.FromMilliseconds(5);
                w.ShutdownTimeout = TimeSpan.FromSeconds(10);
            }));
            using var started = new CountdownEvent(4);

            Task[] writers = [.. Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
            {
                started.Signal();
                for (int i = 0; i < WritesPerWriter; i++)
                {
                    string key = $"w{writer}-{i}";
                    try
                    {
                        await cache.SetAsync(key, "v", CancellationToken.None);
                    }
                    catch (InvalidOperationException)
                    {
                        Interlocked.Increment(ref refused);
                        return;
                    }

                    acknowledged.Add(key);
                    await Task.Yield();
                }
            }))];
            started.Wait(TestContext.Current.CancellationToken);
            await Eventually.TrueAsync(() => acknowledged.Count >= 200, "the writers are writing");

            await Eventually.CompletesAsync(cache.StopAsync(CancellationToken.None), "the cache stops");
            await Eventually.CompletesAsync(Task.WhenAll(writers), "every writer is refused or done");

            string[] lost = [.. acknowledged.Where(k => !store.Data.ContainsKey(k))];
            Assert.True(lost.Length == 0, $"round {round}: {lost.Length} acknowledged writes never reached the store, e.g. {string.Join(", ", lost.Take(5))}; pending {cache.GetStatistics().PendingWrites}");
            Assert.InRange(refused, 0, 4);
            await cache.DisposeAsync();
        }
    }

    [Fact]
    public async Task StopWhileAWriterWaitsForRoom_TheWaitingWriteIsEitherStoredOrRefused()
    {
        var store = new RecordingStore();
        Cache<string, string> cache = Create(store, o => o.WriteBack(w =>
        {
            w.BufferCapacity = 2;
            w.MaxBatchSize = 1;
            w.FlushInterval = TimeSpan.FromHours(1);
        }));
        Gate writes = store.HoldWrites();
        try
        {
            await cache.SetAsync("a", "1", Ct);
            await cache.SetAsync("b", "2", Ct);
            Task waiting = cache.SetAsync("c", "3", CancellationToken.None).AsTask();
            Assert.False(waiting.IsCompleted);

            Task stop = cache.StopAsync(CancellationToken.None).AsTask();
            writes.Release();
            await Eventually.CompletesAsync(stop, "the cache stops");
            Exception? refused = await Record.ExceptionAsync(() => waiting.WaitAsync(Eventually.Limit, Ct));

            // Acknowledged means stored; otherwise the writer was told.
            if (refused is null)
            {
                Assert.Equal("3", store["c"]);
            }
            else
            {
                Assert.IsType<InvalidOperationException>(refused);
                Assert.False(store.Data.ContainsKey("c"));
            }

            Assert.Equal("1", store["a"]);
            Assert.Equal("2", store["b"]);
        }
        finally
        {
            writes.Release();
            await DisposeWithinLimitAsync(cache);
        }
    }
}
