using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace BuildingBlocks.Caching.Redis.Tests.Support;

/// <summary>An <see cref="ILoggerFactory"/> whose loggers record into one <see cref="FakeLogCollector"/>.</summary>
public sealed class FakeLoggerFactory(FakeLogCollector collector) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new FakeLogger(collector, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }
}
