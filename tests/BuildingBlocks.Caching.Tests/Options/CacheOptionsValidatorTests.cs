using BuildingBlocks.Caching.Tests.Support;
using Microsoft.Extensions.Options;
using static BuildingBlocks.Caching.Tests.Support.TestCaches;

namespace BuildingBlocks.Caching.Tests.Options;

public sealed class CacheOptionsValidatorTests
{
    private const string Prefix = "CacheOptions<String, String>.";

    private static readonly Dictionary<string, Action<CacheOptions<string, string>>> Breakers = new()
    {
        ["empty name"] = o => o.Name = "",
        ["name with a space"] = o => o.Name = "my cache",
        ["long name"] = o => o.Name = new string('n', 201),
        ["strategy"] = o => o.Strategy = (WriteStrategy)9,
        ["eviction"] = o => o.Eviction = (EvictionPolicy)9,
        ["L1Capacity"] = o => o.L1Capacity = 2,
        ["Expiration"] = o => o.Expiration = TimeSpan.Zero,
        ["SlidingExpiration zero"] = o => o.SlidingExpiration = TimeSpan.Zero,
        ["SlidingExpiration over Expiration"] = o => o.SlidingExpiration = TimeSpan.FromMinutes(6),
        ["negative jitter"] = o => o.ExpirationJitter = TimeSpan.FromSeconds(-1),
        ["jitter over Expiration"] = o => o.ExpirationJitter = TimeSpan.FromMinutes(6),
        ["DistributedExpiration"] = o => o.DistributedExpiration = TimeSpan.FromSeconds(-5),
        ["MaxDistributedValueBytes"] = o => o.MaxDistributedValueBytes = 0,
        ["DistributedTimeout"] = o => o.DistributedTimeout = TimeSpan.Zero,
        ["DistributedCircuitBreakDuration"] = o => o.DistributedCircuitBreakDuration = TimeSpan.Zero,
        ["LoadTimeout"] = o => o.LoadTimeout = Timeout.InfiniteTimeSpan,
        ["StoreWriteTimeout"] = o => o.StoreWriteTimeout = TimeSpan.Zero,
        ["FlushInterval"] = o => o.WriteBackOptions.FlushInterval = TimeSpan.Zero,
        ["RetryBaseDelay"] = o => o.WriteBackOptions.RetryBaseDelay = TimeSpan.Zero,
        ["StoreTimeout"] = o => o.WriteBackOptions.StoreTimeout = TimeSpan.Zero,
        ["ShutdownTimeout"] = o => o.WriteBackOptions.ShutdownTimeout = TimeSpan.Zero,
        ["RetryMaxDelay"] = o => o.WriteBackOptions.RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        ["MaxBatchSize"] = o => o.WriteBackOptions.MaxBatchSize = 0,
        ["BufferCapacity"] = o => o.WriteBackOptions.BufferCapacity = 499,
        ["MaxAttempts"] = o => o.WriteBackOptions.MaxAttempts = 0,
        ["WhenFull"] = o => o.WriteBackOptions.WhenFull = (BackpressureMode)9,
    };

    [Theory]
    [InlineData("empty name", "Name is ''; it must be 1 to 200 characters without white space.")]
    [InlineData("name with a space", "Name is 'my cache'; it must be 1 to 200 characters without white space.")]
    [InlineData("long name", "; it must be 1 to 200 characters without white space.")]
    [InlineData("strategy", "Strategy is 9; it must be WriteThrough, WriteAround or WriteBack.")]
    [InlineData("eviction", "Eviction is 9; it must be FrequencyAware or Lru.")]
    [InlineData("L1Capacity", "L1Capacity is 2; it must be at least 3.")]
    [InlineData("Expiration", "Expiration is 00:00:00; it must be greater than zero.")]
    [InlineData("SlidingExpiration zero", "SlidingExpiration is 00:00:00; it must be greater than zero.")]
    [InlineData("SlidingExpiration over Expiration", "SlidingExpiration is 00:06:00; it must not exceed Expiration (00:05:00).")]
    [InlineData("negative jitter", "ExpirationJitter is -00:00:01; it must be between zero and Expiration (00:05:00).")]
    [InlineData("jitter over Expiration", "ExpirationJitter is 00:06:00; it must be between zero and Expiration (00:05:00).")]
    [InlineData("DistributedExpiration", "DistributedExpiration is -00:00:05; it must be greater than zero.")]
    [InlineData("MaxDistributedValueBytes", "MaxDistributedValueBytes is 0; it must be at least 1.")]
    [InlineData("DistributedTimeout", "DistributedTimeout is 00:00:00; it must be greater than zero.")]
    [InlineData("DistributedCircuitBreakDuration", "DistributedCircuitBreakDuration is 00:00:00; it must be greater than zero.")]
    [InlineData("LoadTimeout", "LoadTimeout is -00:00:00.0010000; it must be greater than zero.")]
    [InlineData("StoreWriteTimeout", "StoreWriteTimeout is 00:00:00; it must be greater than zero.")]
    [InlineData("FlushInterval", "WriteBack.FlushInterval is 00:00:00; it must be greater than zero.")]
    [InlineData("RetryBaseDelay", "WriteBack.RetryBaseDelay is 00:00:00; it must be greater than zero.")]
    [InlineData("StoreTimeout", "WriteBack.StoreTimeout is 00:00:00; it must be greater than zero.")]
    [InlineData("ShutdownTimeout", "WriteBack.ShutdownTimeout is 00:00:00; it must be greater than zero.")]
    [InlineData("RetryMaxDelay", "WriteBack.RetryMaxDelay is 00:00:00.1000000; it must be at least RetryBaseDelay (00:00:00.2000000).")]
    [InlineData("MaxBatchSize", "WriteBack.MaxBatchSize is 0; it must be at least 1.")]
    [InlineData("BufferCapacity", "WriteBack.BufferCapacity is 499; it must be at least MaxBatchSize (500).")]
    [InlineData("MaxAttempts", "WriteBack.MaxAttempts is 0; it must be at least 1.")]
    [InlineData("WhenFull", "WriteBack.WhenFull is 9; it must be Wait or Fail.")]
    public void EachRule_FailsWithAMessageNamingTheOptionItsValueAndTheRule(string rule, string expected)
    {
        var options = new CacheOptions<string, string>();
        Breakers[rule](options);

        ValidateOptionsResult result = new CacheOptionsValidator<string, string>().Validate("items", options);

        Assert.True(result.Failed);
        string failure = Assert.Single(result.Failures!);
        Assert.StartsWith(Prefix, failure, StringComparison.Ordinal);
        Assert.Contains(expected, failure, StringComparison.Ordinal);

        // The cache refuses the same options when built without DI, with the same message.
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => Create(new RecordingStore(), o => Breakers[rule](o)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(new RecordingStore().Calls);
    }

    [Fact]
    public void Defaults_AreValid_AndAreTheDocumentedValues()
    {
        var options = new CacheOptions<string, string>();

        Assert.True(new CacheOptionsValidator<string, string>().Validate(null, options).Succeeded);
        Assert.Null(options.Name);
        Assert.Equal(WriteStrategy.WriteThrough, options.Strategy);
        Assert.Null(options.StrategyPolicy);
        Assert.Equal(10_000, options.L1Capacity);
        Assert.Equal(EvictionPolicy.FrequencyAware, options.Eviction);
        Assert.Equal(TimeSpan.FromMinutes(5), options.Expiration);
        Assert.Null(options.SlidingExpiration);
        Assert.Null(options.ExpirationJitter);
        Assert.True(options.UseDistributedCache);
        Assert.Null(options.DistributedExpiration);
        Assert.Equal(1024 * 1024, options.MaxDistributedValueBytes);
        Assert.Equal(TimeSpan.FromSeconds(1), options.DistributedTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.DistributedCircuitBreakDuration);
        Assert.Equal(TimeSpan.FromSeconds(30), options.LoadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.StoreWriteTimeout);
        WriteBackOptions w = options.WriteBackOptions;
        Assert.Equal(TimeSpan.FromSeconds(1), w.FlushInterval);
        Assert.Equal(500, w.MaxBatchSize);
        Assert.Equal(100_000, w.BufferCapacity);
        Assert.Equal(BackpressureMode.Wait, w.WhenFull);
        Assert.Equal(5, w.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(200), w.RetryBaseDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), w.RetryMaxDelay);
        Assert.Null(w.Journal);
    }

    [Fact]
    public void BoundaryValues_AreAccepted()
    {
        var options = new CacheOptions<string, string>
        {
            Name = new string('n', 200),
            L1Capacity = 3,
            SlidingExpiration = TimeSpan.FromMinutes(5),
            ExpirationJitter = TimeSpan.FromMinutes(5),
            MaxDistributedValueBytes = 1,
        };
        options.WriteBackOptions.MaxBatchSize = 1;
        options.WriteBackOptions.BufferCapacity = 1;
        options.WriteBackOptions.MaxAttempts = 1;
        options.WriteBackOptions.RetryMaxDelay = options.WriteBackOptions.RetryBaseDelay;

        Assert.True(new CacheOptionsValidator<string, string>().Validate(null, options).Succeeded);
        options.ExpirationJitter = TimeSpan.Zero;
        Assert.True(new CacheOptionsValidator<string, string>().Validate(null, options).Succeeded);
    }

    [Fact]
    public void SeveralBadOptions_AreAllReported_AtOnce()
    {
        var options = new CacheOptions<string, string> { L1Capacity = 0, Expiration = TimeSpan.Zero, LoadTimeout = TimeSpan.Zero };
        options.WriteBackOptions.MaxAttempts = 0;

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => new Cache<string, string>(new RecordingStore(), options));

        Assert.Equal(4, error.Failures.Count());
        Assert.Contains("L1Capacity is 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Expiration is 00:00:00", error.Message, StringComparison.Ordinal);
        Assert.Contains("LoadTimeout is 00:00:00", error.Message, StringComparison.Ordinal);
        Assert.Contains("WriteBack.MaxAttempts is 0", error.Message, StringComparison.Ordinal);
        Assert.Equal(typeof(CacheOptions<string, string>), error.OptionsType);
    }

    [Fact]
    public void Validate_NullOptions_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new CacheOptionsValidator<string, string>().Validate("x", null!));
    }

    [Fact]
    public void Constructor_NullStore_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => new Cache<string, string>(null!));
    }

    [Fact]
    public async Task Name_DefaultsToTheValueTypeName()
    {
        await using var cache = new Cache<string, string>(new RecordingStore());
        Assert.Equal("String", cache.Name);
        await using Cache<string, string> named = Create(new RecordingStore(), o => o.Name = "prices");
        Assert.Equal("prices", named.Name);
    }

    /// <summary>
    /// "No timeout in practice" written as a very long span: the .NET timers the cache uses take at most ~49 days, so the
    /// cache must either refuse such a value at start naming the option, or work with it. It must not accept it and
    /// then fail every call.
    /// </summary>
    [Theory]
    [InlineData("LoadTimeout")]
    [InlineData("StoreWriteTimeout")]
    public async Task TimeoutLongerThanTimersAllow_IsRefusedNamingTheOption_OrWorks(string option)
    {
        var store = new RecordingStore();
        store["k"] = "v";
        Cache<string, string> cache;
        try
        {
            cache = Create(store, o =>
            {
                if (option == "LoadTimeout")
                {
                    o.LoadTimeout = TimeSpan.FromDays(100);
                }
                else
                {
                    o.StoreWriteTimeout = TimeSpan.FromDays(100);
                }
            });
        }
        catch (OptionsValidationException error)
        {
            Assert.Contains(option, error.Message, StringComparison.Ordinal);
            return;
        }

        await using (cache)
        {
            Assert.Equal("v", await cache.GetOrLoadAsync("k", Ct));
            await cache.SetAsync("k", "w", Ct);
            Assert.Equal("w", store["k"]);
        }
    }

    [Fact]
    public async Task FlushIntervalLongerThanTimersAllow_IsRefusedNamingTheOption_OrFlushStillWorks()
    {
        var store = new RecordingStore();
        Cache<string, string> cache;
        try
        {
            cache = Create(store, o => o.WriteBack(w => w.FlushInterval = TimeSpan.FromDays(100)));
        }
        catch (OptionsValidationException error)
        {
            Assert.Contains("FlushInterval", error.Message, StringComparison.Ordinal);
            return;
        }

        try
        {
            await cache.SetAsync("k", "v", Ct);
            Task flush = cache.FlushAsync(CancellationToken.None).AsTask();
            await Eventually.TrueAsync(() => flush.IsCompleted, "FlushAsync writes the key", TimeSpan.FromSeconds(5));
            await flush;
            Assert.Equal("v", store["k"]);
        }
        finally
        {
            _ = cache.DisposeAsync().AsTask();
        }
    }
}
