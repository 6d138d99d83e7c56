using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.Sagas;

/// <summary>Checks the definitions at start-up and runs this process's coordinator while the host runs.</summary>
internal sealed class SagaCoordinatorHostedService : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly SagaOptions _options;

    public SagaCoordinatorHostedService(IServiceProvider services, IOptions<SagaOptions> options)
    {
        _services = services;
        _options = options.Value;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolving builds and validates every definition, so a bad one fails the host here.
        SagaRegistry registry = (SagaRegistry)_services.GetService(typeof(SagaRegistry))!;
        SagaRuntime runtime = (SagaRuntime)_services.GetService(typeof(SagaRuntime))!;
        if (!_options.RunCoordinator)
        {
            return;
        }

        SagaCoordinator coordinator = (SagaCoordinator)_services.GetService(typeof(SagaCoordinator))!;
        await coordinator.StartAsync().ConfigureAwait(false);
        Log.CoordinatorStarted(runtime.Logger, runtime.CoordinatorId, runtime.Store.GetType().Name, registry.Names.Count, registry.Names);
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        _options.RunCoordinator ? ((SagaCoordinator)_services.GetService(typeof(SagaCoordinator))!).StopAsync(cancellationToken) : Task.CompletedTask;
}
