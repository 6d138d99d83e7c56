namespace BuildingBlocks.Caching;

/// <summary>What the DI host starts and stops: every registered cache, whatever its key and value types.</summary>
internal interface IManagedCache
{
    string Name { get; }

    ValueTask StartAsync(CancellationToken cancellationToken);

    ValueTask StopAsync(CancellationToken cancellationToken);
}

/// <summary>One <c>AddCache</c> call, for the hosted service to resolve at start.</summary>
internal sealed record CacheRegistration(string Name, Func<IServiceProvider, IManagedCache> Resolve);
