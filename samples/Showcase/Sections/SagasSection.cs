using System.Collections.Concurrent;
using System.Globalization;
using BuildingBlocks.Sagas;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Showcase.Rendering;

namespace Showcase.Sections;

/// <summary>
/// Sagas: an order saga on a SQLite file. One order completes; one is declined and compensated; one fails to ship, its
/// refund fails too, and it is parked for an operator, who retries it once refunds work again.
/// </summary>
internal sealed class SagasSection : IShowcaseSection
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public string Title => "BuildingBlocks.Sagas: an order saga in a SQLite file, with compensations and an operator retry";

    public async Task RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"bb-showcase-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            await RunInAsync(Path.Combine(directory, "sagas.db"), output, cancellationToken);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task RunInAsync(string database, TextWriter output, CancellationToken cancellationToken)
    {
        // Registered the way an app would: the coordinator (a hosted service), one definition, a durable store.
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<Shop>();
        builder.Services.AddSagas().AddSaga<OrderSaga, Order>().UseSqlite(database);
        using IHost host = builder.Build();
        await host.StartAsync(cancellationToken);
        ISagaClient sagas = host.Services.GetRequiredService<ISagaClient>();
        ISagaOperator operators = host.Services.GetRequiredService<ISagaOperator>();
        Shop shop = host.Services.GetRequiredService<Shop>();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(s_timeout);

        output.WriteLine(Invariant($"Saga \"order\" lives in {database}: reserve-stock, charge-card, ship; the first two undo (release, refund)."));
        output.WriteLine("Each step passes its idempotency key to the shop, which does each thing once per key.");
        string[] ids = ["order-1", "order-2", "order-3"];
        await sagas.StartAsync(new Order { Card = "4242" }, new SagaStartOptions { SagaId = ids[0] }, cancellationToken);
        string again = await sagas.StartAsync(new Order { Card = "4242" }, new SagaStartOptions { SagaId = ids[0] }, cancellationToken);
        await sagas.StartAsync(new Order { Card = Shop.DeclinedCard }, new SagaStartOptions { SagaId = ids[1] }, cancellationToken);
        shop.WarehouseClosedFor.Add(ids[2]);
        shop.RefundsDown = true;
        await sagas.StartAsync(new Order { Card = "5555" }, new SagaStartOptions { SagaId = ids[2] }, cancellationToken);
        output.WriteLine(Invariant($"{ids[0]} was started twice with one saga id: the second start returned {again} and started nothing."));

        await sagas.WaitForEndAsync(ids[0], deadline.Token);
        await sagas.WaitForEndAsync(ids[1], deadline.Token);
        SagaSnapshot parked = await sagas.WaitForEndAsync(ids[2], deadline.Token);
        IReadOnlyList<SagaSnapshot> waiting = await operators.ListParkedAsync(cancellationToken: cancellationToken);
        output.WriteLine(Invariant($"{parked.Id} is {parked.Status}, parked for an operator ({waiting.Count} parked): {parked.Error}"));

        // The operator fixes the cause, then puts the saga back to work: it compensates again from the refund.
        shop.RefundsDown = false;
        await operators.RetryAsync(ids[2], "refund API is back", cancellationToken);
        output.WriteLine(Invariant($"The refund API is back; the operator calls RetryAsync(\"{ids[2]}\")."));
        await WaitUntilFinishedAsync(sagas, ids[2], deadline.Token);
        output.WriteLine();

        var table = new Table("Order", "Status", "Path (from the saga's history)");
        foreach (string id in ids)
        {
            SagaSnapshot saga = (await sagas.GetAsync(id, cancellationToken))!;
            table.Add(id, saga.Status, Describe(await sagas.GetHistoryAsync(id, cancellationToken)));
        }

        table.WriteTo(output);
        IReadOnlyDictionary<SagaStatus, long> counts = await operators.CountByStatusAsync(cancellationToken);
        output.WriteLine(Invariant($"Sagas by status: {string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))}."));
        output.WriteLine(Invariant($"The shop: {shop.Describe()}."));
        output.WriteLine("Compensations run newest first; a step retried, resumed after a crash or re-run by an operator passes the same key, so");
        output.WriteLine("nothing happens twice. A killed process's sagas resume from the file: samples/Sagas.TripBooking --crash-after. See docs/sagas.md.");
        output.WriteLine("Across machines, swap one line: .UseSqlite(path) becomes .UsePostgreSql(connectionString) (package BuildingBlocks.Sagas.PostgreSql);");
        output.WriteLine("coordinators share the sagas through leases with fencing tokens, and a saga's steps run on one coordinator at a time.");
        await host.StopAsync(cancellationToken);
    }

    /// <summary>The history in one line: ✓ done, ✗ failed, ↻ retried, then the compensations.</summary>
    private static string Describe(IReadOnlyList<SagaEvent> history) => string.Join(" → ", history
        .Select(e => e.Kind switch
        {
            SagaEventKind.StepCompleted => $"{e.Step} ✓",
            SagaEventKind.StepFailed => $"{e.Step} ✗",
            SagaEventKind.StepAttemptFailed => $"{e.Step} ↻",
            SagaEventKind.CompensationCompleted => $"undo {e.Step} ✓",
            SagaEventKind.CompensationAttemptFailed => $"undo {e.Step} ↻",
            SagaEventKind.CompensationFailed => $"undo {e.Step} ✗ (parked)",
            SagaEventKind.Retried => "operator retry",
            _ => null,
        })
        .OfType<string>());

    private static async Task WaitUntilFinishedAsync(ISagaClient sagas, string id, CancellationToken deadline)
    {
        // Right after a retry the saga may still read as parked until the coordinator picks it up: wait for a final status.
        while (true)
        {
            SagaSnapshot saga = await sagas.WaitForEndAsync(id, deadline);
            if (saga.IsFinished)
            {
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), deadline);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                throw new TimeoutException(Invariant($"Saga {id} did not finish within {s_timeout.TotalSeconds} s; it is {saga.Status}."));
            }
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The saga data: saved as JSON after every step.</summary>
    private sealed class Order
    {
        public string Card { get; set; } = "";

        public string? ReservationId { get; set; }

        public string? PaymentId { get; set; }
    }

    /// <summary>The order saga: reserve, charge, ship; reserve and charge are undone when a later step fails for good.</summary>
    private sealed class OrderSaga(Shop shop) : SagaDefinition<Order>
    {
        public override string Name => "order";

        protected override void Define(SagaBuilder<Order> saga)
        {
            saga.Step("reserve-stock")
                .Execute((ctx, _) => Done(ctx.Data.ReservationId = shop.Reserve(ctx.IdempotencyKey)))
                .Compensate((ctx, _) => Done(shop.Release(ctx.Data.ReservationId!)));
            saga.Step("charge-card")
                .Execute((ctx, _) => Done(ctx.Data.PaymentId = shop.Charge(ctx.Data.Card, ctx.IdempotencyKey)))
                .Compensate((ctx, _) => Done(shop.Refund(ctx.Data.PaymentId!)))
                .WithCompensationRetry(2, r => r.InitialDelay = TimeSpan.FromMilliseconds(50));
            saga.Step("ship")
                .Execute((ctx, _) => Done(shop.Ship(ctx.SagaId, ctx.IdempotencyKey)));
        }

        private static Task Done<T>(T _) => Task.CompletedTask;
    }

    /// <summary>The shop's services, in memory, each doing its work once per idempotency key.</summary>
    private sealed class Shop
    {
        public const string DeclinedCard = "0002";

        private readonly ConcurrentDictionary<string, string> _reservations = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _payments = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, string> _shipments = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, bool> _released = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, bool> _refunded = new(StringComparer.Ordinal);
        private volatile bool _refundsDown;

        public ConcurrentBag<string> WarehouseClosedFor { get; } = [];

        public bool RefundsDown
        {
            get => _refundsDown;
            set => _refundsDown = value;
        }

        public string Reserve(string key) => _reservations.GetOrAdd(key, _ => $"R{_reservations.Count + 1}");

        public string Charge(string card, string key) => card == DeclinedCard
            ? throw new PermanentStepFailureException("card declined")
            : _payments.GetOrAdd(key, _ => $"P{_payments.Count + 1}");

        public string Ship(string orderId, string key) => WarehouseClosedFor.Contains(orderId)
            ? throw new PermanentStepFailureException("warehouse closed")
            : _shipments.GetOrAdd(key, _ => $"S{_shipments.Count + 1}");

        public bool Release(string reservation) => _released.TryAdd(reservation, true);

        public bool Refund(string payment) => RefundsDown
            ? throw new HttpRequestException("refund API unavailable")
            : _refunded.TryAdd(payment, true);

        public string Describe() => Invariant(
            $"{_reservations.Count} stock reservations ({_released.Count} released), {_payments.Count} card charges ({_refunded.Count} refunded), {_shipments.Count} shipment");
    }
}
