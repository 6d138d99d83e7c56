using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BuildingBlocks.Sagas;

/// <summary>Checks the definitions at start-up and runs this process's coordinator while the host runs.</summary>
internal sealed class SagaCoordinatorHostedService : IHostedLifecycleService
{
    private readonly IServiceProvider _services;
    private readonly SagaOptions _options;
    private SagaCoordinator? _coordinator;

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
        _coordinator = coordinator;
        Log.CoordinatorStarted(runtime.Logger, runtime.CoordinatorId, runtime.Store.GetType().Name, registry.Names.Count, registry.Names);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs first when the host stops: running sagas start no new step from here on.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Only a coordinator that started: a host whose start failed (an invalid definition) stops without repeating the error.
        _coordinator?.BeginStop();
        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => _coordinator?.StopAsync(cancellationToken) ?? Task.CompletedTask;
}
