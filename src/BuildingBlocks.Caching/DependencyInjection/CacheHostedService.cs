using Microsoft.Extensions.Hosting;

namespace BuildingBlocks.Caching;

/// <summary>
/// Starts every registered cache with the host (backplane subscription, journal replay) and stops them with it
/// (write-back buffers flushed, in reverse order of registration).
/// </summary>
internal sealed class CacheHostedService(IServiceProvider services, IEnumerable<CacheRegistration> registrations) : IHostedService
{
    private readonly List<IManagedCache> _started = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (CacheRegistration registration in registrations)
        {
            IManagedCache cache = registration.Resolve(services);
            await cache.StartAsync(cancellationToken).ConfigureAwait(false);
            _started.Add(cache);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        for (int i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
