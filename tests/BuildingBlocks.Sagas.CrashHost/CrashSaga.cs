namespace BuildingBlocks.Sagas.CrashHost;

/// <summary>
/// The crash saga (see <see cref="CrashPlan"/>): every action and compensation pauses a random moment, calls the ledger
/// with its idempotency key, and pauses again, so a kill lands before a call, between a call and its checkpoint, or
/// between steps. Failures come from the saga's plan and from the attempt number, never from chance.
/// </summary>
internal sealed class CrashSaga(CrashService service) : SagaDefinition<CrashSagaData>
{
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_maxRetryDelay = TimeSpan.FromMilliseconds(100);

    public override string Name => CrashPlan.SagaName;

    protected override void Define(SagaBuilder<CrashSagaData> saga)
    {
        Compensable(saga.Step(CrashPlan.Reserve).Execute(ExecuteAsync));
        Compensable(saga.Step(CrashPlan.Charge).Execute(ExecuteAsync))
            .WithRetry(CrashPlan.ChargeMaxAttempts, Fast)
            .CompensateWhenFailed();
        saga.Parallel(CrashPlan.Ship, group =>
        {
            Compensable(group.Step(CrashPlan.Pack).Execute(ExecuteAsync));
            Compensable(group.Step(CrashPlan.Label).Execute(ExecuteAsync));
            group.Step(CrashPlan.Notify).Execute(ExecuteAsync);
        });
        saga.Step(CrashPlan.Audit).Execute(ExecuteAsync);
        Compensable(saga.Step(CrashPlan.Confirm).Execute(ExecuteAsync));
        Compensable(saga.Step(CrashPlan.Finalize).Execute(ExecuteAsync));
    }

    private static void Fast(SagaRetryPolicy retry)
    {
        retry.InitialDelay = s_retryDelay;
        retry.MaxDelay = s_maxRetryDelay;
    }

    private SagaStepBuilder<CrashSagaData> Compensable(SagaStepBuilder<CrashSagaData> step) =>
        step.Compensate(CompensateAsync).WithCompensationRetry(CrashPlan.CompensationMaxAttempts, Fast);

    private async Task ExecuteAsync(SagaStepContext<CrashSagaData> context, CancellationToken cancellationToken)
    {
        CrashSagaData data = context.Data;
        await service.PauseAsync(cancellationToken).ConfigureAwait(false);
        if (context.StepName == CrashPlan.Charge && context.Attempt <= CrashPlan.ChargeFailingAttempts)
        {
            throw new TransientServiceException($"charge attempt {context.Attempt} fails by design (retried)");
        }

        if (data.FailAt == context.StepName && !data.FailAfterEffect)
        {
            throw new PermanentStepFailureException($"{context.StepName} fails by design (saga {data.Index})");
        }

        data.Receipts[context.StepName] = await service.Ledger.ApplyAsync(
            context.IdempotencyKey, context.SagaId, context.StepName, Ledger.Forward, null, service.CoordinatorId, context.Attempt, cancellationToken).ConfigureAwait(false);
        await service.PauseAsync(cancellationToken).ConfigureAwait(false);
        if (data.FailAt == context.StepName)
        {
            throw new PermanentStepFailureException($"{context.StepName} fails by design after its effect (saga {data.Index})");
        }
    }

    private async Task CompensateAsync(SagaStepContext<CrashSagaData> context, CancellationToken cancellationToken)
    {
        CrashSagaData data = context.Data;
        await service.PauseAsync(cancellationToken).ConfigureAwait(false);
        if (data.ParkAt == context.StepName)
        {
            throw new TransientServiceException($"the compensation of {context.StepName} always fails by design (saga {data.Index}, attempt {context.Attempt})");
        }

        if ((context.StepName == CrashPlan.Reserve && context.Attempt <= 1) || (context.StepName == CrashPlan.Confirm && context.Attempt <= 2))
        {
            throw new TransientServiceException($"the compensation of {context.StepName} fails on attempt {context.Attempt} by design (retried)");
        }

        long? undoes = data.Receipts.TryGetValue(context.StepName, out long receipt) ? receipt : null;
        await service.Ledger.ApplyAsync(
            context.IdempotencyKey, context.SagaId, context.StepName, Ledger.Compensation, undoes, service.CoordinatorId, context.Attempt, cancellationToken).ConfigureAwait(false);
        await service.PauseAsync(cancellationToken).ConfigureAwait(false);
    }
}
