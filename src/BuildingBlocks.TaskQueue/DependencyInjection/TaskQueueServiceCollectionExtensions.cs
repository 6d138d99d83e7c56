using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers task queues, their stores and handlers, and the hosted worker.</summary>
public static class TaskQueueServiceCollectionExtensions
{
    /// <summary>
    /// Registers the default task queue: <see cref="ITaskQueue"/> (a singleton) over the in-memory store until a
    /// <c>Use…</c> call picks a durable one, with options validated at start-up. Safe to call more than once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder for the store and handlers.</returns>
    public static ITaskQueueBuilder AddTaskQueue(this IServiceCollection services, Action<TaskQueueOptions>? configure = null) =>
        services.AddTaskQueue(Options.Options.DefaultName, configure);

    /// <summary>
    /// Registers a named task queue, resolved with <c>GetRequiredKeyedService&lt;ITaskQueue&gt;(name)</c> or
    /// <c>[FromKeyedServices(name)]</c>; it has its own store, handlers and worker.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The name; "" is the default queue.</param>
    /// <param name="configure">Configures the options.</param>
    /// <returns>A builder for the store and handlers.</returns>
    public static ITaskQueueBuilder AddTaskQueue(this IServiceCollection services, string name, Action<TaskQueueOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);

        OptionsBuilder<TaskQueueOptions> options = services.AddOptions<TaskQueueOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.AddOptions<TaskHandlerRegistry>(name).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TaskQueueOptions>, TaskQueueOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TaskHandlerRegistry>, TaskHandlerRegistryValidator>());

        services.TryAddKeyedSingleton<ITaskStore>(name, (sp, _) => new InMemoryTaskStore(sp.GetService<TimeProvider>() ?? TimeProvider.System));
        services.TryAddKeyedSingleton<TaskNotifier>(name, (_, _) => new TaskNotifier());
        services.TryAddKeyedSingleton<TaskQueueClient>(name, (sp, _) => new TaskQueueClient(
            sp.GetRequiredKeyedService<ITaskStore>(name),
            sp.GetRequiredService<IOptionsMonitor<TaskQueueOptions>>().Get(name),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredKeyedService<TaskNotifier>(name),
            new TaskQueueTelemetry(sp.GetService<IMeterFactory>(), name)));
        services.TryAddKeyedSingleton<ITaskQueue>(name, (sp, _) => sp.GetRequiredKeyedService<TaskQueueClient>(name));
        if (name.Length == 0)
        {
            services.TryAddSingleton(sp => sp.GetRequiredKeyedService<ITaskQueue>(Options.Options.DefaultName));
        }

        return new TaskQueueBuilder(services, name);
    }

    /// <summary>
    /// Handles <paramref name="queue"/> with <typeparamref name="THandler"/> (resolved from a new scope for every task),
    /// and runs the hosted worker. A queue has one handler.
    /// </summary>
    /// <typeparam name="THandler">The handler; registered as scoped unless already registered.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="queue">The queue name.</param>
    /// <param name="configure">Configures concurrency, timeout and retry delays of this queue.</param>
    /// <returns>The builder.</returns>
    public static ITaskQueueBuilder AddHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this ITaskQueueBuilder builder, string queue, Action<QueueHandlerOptions>? configure = null)
        where THandler : class, ITaskHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddScoped<THandler>();
        return builder.AddHandler(queue, typeof(THandler).FullName ?? typeof(THandler).Name, static sp => sp.GetRequiredService<THandler>(), configure);
    }

    /// <summary>Handles <paramref name="queue"/> with a delegate, and runs the hosted worker.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="queue">The queue name.</param>
    /// <param name="handler">Runs one attempt; throw to fail it.</param>
    /// <param name="configure">Configures concurrency, timeout and retry delays of this queue.</param>
    /// <returns>The builder.</returns>
    public static ITaskQueueBuilder AddHandler(this ITaskQueueBuilder builder, string queue, Func<TaskContext, CancellationToken, ValueTask> handler, Action<QueueHandlerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(handler);
        var instance = new DelegateTaskHandler(handler);
        return builder.AddHandler(queue, "delegate", _ => instance, configure);
    }

    /// <summary>Uses a custom store (registered as a keyed singleton for this queue).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="factory">Creates the store.</param>
    /// <returns>The builder.</returns>
    public static ITaskQueueBuilder UseStore(this ITaskQueueBuilder builder, Func<IServiceProvider, ITaskStore> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.RemoveAllKeyed<ITaskStore>(builder.Name);
        builder.Services.AddKeyedSingleton<ITaskStore>(builder.Name, (sp, _) => factory(sp));
        return builder;
    }

    /// <summary>Keeps tasks in process memory (the default): fast, lost when the process ends.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ITaskQueueBuilder UseInMemory(this ITaskQueueBuilder builder) =>
        builder.UseStore(sp => new InMemoryTaskStore(sp.GetService<TimeProvider>() ?? TimeProvider.System));

    private static ITaskQueueBuilder AddHandler(this ITaskQueueBuilder builder, string queue, string handlerName, Func<IServiceProvider, ITaskHandler> factory, Action<QueueHandlerOptions>? configure)
    {
        TaskQueueClient.ValidateQueueName(queue, nameof(queue));
        var handlerOptions = new QueueHandlerOptions();
        configure?.Invoke(handlerOptions);
        builder.Services.Configure<TaskHandlerRegistry>(builder.Name, r => r.Handlers.Add(new TaskHandlerRegistration(queue, handlerName, factory, handlerOptions)));

        string name = builder.Name;
        if (!builder.Services.Any(d => d.ServiceType == typeof(TaskQueueWorker) && d.IsKeyedService && Equals(d.ServiceKey, name)))
        {
            builder.Services.AddKeyedSingleton<TaskQueueWorker>(name, (sp, _) => new TaskQueueWorker(name, sp));
            builder.Services.AddSingleton<IHostedService>(sp => sp.GetRequiredKeyedService<TaskQueueWorker>(name));
        }

        return builder;
    }

    private static void RemoveAllKeyed<T>(this IServiceCollection services, string key)
    {
        for (int i = services.Count - 1; i >= 0; i--)
        {
            ServiceDescriptor d = services[i];
            if (d.ServiceType == typeof(T) && d.IsKeyedService && Equals(d.ServiceKey, key))
            {
                services.RemoveAt(i);
            }
        }
    }

    private sealed class TaskQueueBuilder(IServiceCollection services, string name) : ITaskQueueBuilder
    {
        public IServiceCollection Services { get; } = services;

        public string Name { get; } = name;
    }

    private sealed class DelegateTaskHandler(Func<TaskContext, CancellationToken, ValueTask> handler) : ITaskHandler
    {
        public ValueTask HandleAsync(TaskContext context, CancellationToken cancellationToken) => handler(context, cancellationToken);
    }
}
