namespace BuildingBlocks.Sagas;

/// <summary>Configures one step: its action, its compensation, retries and timeouts. Every method returns this builder.</summary>
/// <typeparam name="TData">The saga data type.</typeparam>
public sealed class SagaStepBuilder<TData>
    where TData : class
{
    internal SagaStepBuilder(SagaStepDefinition<TData> step)
    {
        Step = step;
    }

    internal SagaStepDefinition<TData> Step { get; }

    /// <summary>The step's action. Pass <see cref="SagaStepContext{TData}.IdempotencyKey"/> to the service it calls.</summary>
    /// <param name="action">The action.</param>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> Execute(Func<SagaStepContext<TData>, CancellationToken, Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Step.Action = action;
        return this;
    }

    /// <summary>
    /// How to undo the step after a later step failed for good: run in reverse completion order. Leave it out for steps
    /// with nothing to undo (a read, a notification). Compensations are retried (<see cref="SagaOptions.DefaultCompensationRetry"/>).
    /// </summary>
    /// <param name="compensation">The compensation.</param>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> Compensate(Func<SagaStepContext<TData>, CancellationToken, Task> compensation)
    {
        ArgumentNullException.ThrowIfNull(compensation);
        Step.Compensation = compensation;
        return this;
    }

    /// <summary>Retries the action (by default it runs once): see <see cref="SagaRetryPolicy"/>.</summary>
    /// <param name="maxAttempts">The most attempts, the first included.</param>
    /// <param name="configure">Configures delays, jitter and which errors are retried.</param>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> WithRetry(int maxAttempts, Action<SagaRetryPolicy>? configure = null)
    {
        SagaRetryPolicy policy = new() { MaxAttempts = maxAttempts };
        configure?.Invoke(policy);
        Step.Retry = policy;
        return this;
    }

    /// <summary>Replaces <see cref="SagaOptions.DefaultCompensationRetry"/> for this step's compensation.</summary>
    /// <param name="maxAttempts">The most attempts, the first included.</param>
    /// <param name="configure">Configures delays, jitter and which errors are retried.</param>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> WithCompensationRetry(int maxAttempts, Action<SagaRetryPolicy>? configure = null)
    {
        SagaRetryPolicy policy = new() { MaxAttempts = maxAttempts };
        configure?.Invoke(policy);
        Step.CompensationRetry = policy;
        return this;
    }

    /// <summary>
    /// Limits each attempt of the action (and of the compensation unless <see cref="WithCompensationTimeout"/> is set):
    /// its token is canceled, and a step that ignores the token is abandoned as timed out, a retriable error.
    /// </summary>
    /// <param name="attemptTimeout">The time one attempt may take.</param>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> WithTimeout(TimeSpan attemptTimeout)
    {
        Step.AttemptTimeout = attemptTimeout;
        return this;
    }

    /// <summary>Limits the action across all its attempts and retry delays; past it the step fails for good.</summary>
    /// <param name="stepTimeout">The time the step may take in all.</param>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> WithStepTimeout(TimeSpan stepTimeout)
    {
        Step.StepTimeout = stepTimeout;
        return this;
    }

    /// <summary>Limits each attempt of the compensation.</summary>
    /// <param name="attemptTimeout">The time one attempt may take.</param>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> WithCompensationTimeout(TimeSpan attemptTimeout)
    {
        Step.CompensationAttemptTimeout = attemptTimeout;
        return this;
    }

    /// <summary>
    /// Also compensates the step when its action failed for good, for actions that may take effect and still report a
    /// failure (a timeout after the service charged the card). The compensation must then accept "nothing to undo".
    /// </summary>
    /// <returns>This builder.</returns>
    public SagaStepBuilder<TData> CompensateWhenFailed()
    {
        Step.CompensateWhenFailed = true;
        return this;
    }
}
