using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using BuildingBlocks.TaskQueue;
using Microsoft.Extensions.DependencyInjection;

namespace TaskQueue.PizzaShop;

/// <summary>Sizes and timings of a <see cref="PizzaShop"/> run.</summary>
internal sealed class PizzaShopOptions
{
    /// <summary>Orders taken, cycling through Ham, Cheese, Plain. Default 9.</summary>
    public int Orders { get; init; } = 9;

    /// <summary>Oven processes. Default 3.</summary>
    public int Ovens { get; init; } = 3;

    /// <summary>How long a pizza bakes. Default 1 s.</summary>
    public TimeSpan BakeTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The lease on an order; heartbeats every eighth of it. Default 2 s.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Which oven (1-based) loses power. Default 1.</summary>
    public int FailingOven { get; init; } = 1;

    /// <summary>Halfway through which of its pizzas (1-based). Default 2: it bakes one fine first.</summary>
    public int PowerCutOnPizza { get; init; } = 2;

    /// <summary>The most the run may take before the shop gives up. Default 60 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// The task queue's classic example, end to end: the shop takes pizza orders into a task queue on a SQLite file, three
/// ovens (separate processes, each a hosted task queue worker on the same file) bake them, and one oven loses power
/// halfway through a pizza. Its heartbeats stop, its lease runs out, and another oven bakes that pizza on a later
/// attempt. The board is filled from the store (who completed what, on which attempt) and checked against what the
/// ovens themselves report (which pizzas came out, how often).
/// </summary>
/// <param name="options">Sizes and timings; defaults when null.</param>
internal sealed class PizzaShop(PizzaShopOptions? options = null)
{
    private readonly PizzaShopOptions _options = options ?? new PizzaShopOptions();

    public static string OvenName(int number) => "oven-" + number.ToString(CultureInfo.InvariantCulture);

    public async Task<PizzaShopResult> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_options.Orders < 1 || _options.Ovens < 2 || _options.FailingOven < 1 || _options.FailingOven > _options.Ovens || _options.PowerCutOnPizza < 1)
        {
            throw new InvalidOperationException("A shop needs at least one order, at least two ovens, and a failing oven among them.");
        }

        string directory = Path.Combine(Path.GetTempPath(), $"pizzashop-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            return await RunInAsync(Path.Combine(directory, "orders.db"), output, cancellationToken);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task<PizzaShopResult> RunInAsync(string database, TextWriter output, CancellationToken cancellationToken)
    {
        // The shop only produces: a registration without handlers runs no worker.
        var services = new ServiceCollection();
        services.AddTaskQueue().UseSqlite(database);
        await using ServiceProvider provider = services.BuildServiceProvider();
        ITaskQueue queue = provider.GetRequiredService<ITaskQueue>();

        output.WriteLine(Invariant($"Pizza shop: {_options.Orders} orders, {_options.Ovens} ovens (separate processes) sharing one task queue in a SQLite file"));
        output.WriteLine(Invariant($"  {database}"));
        output.WriteLine(Invariant($"  a pizza bakes in {_options.BakeTime.TotalSeconds:0.#} s; lease {_options.Lease.TotalSeconds:0.#} s, heartbeat every {(_options.Lease / 8).TotalMilliseconds:0} ms"));
        output.WriteLine();

        var clock = Stopwatch.StartNew();
        var events = Channel.CreateUnbounded<OvenEvent>(new UnboundedChannelOptions { SingleReader = true });
        var board = new Board(output, clock);
        var ovens = new List<OvenProcess>();
        try
        {
            for (int i = 1; i <= _options.Ovens; i++)
            {
                ovens.Add(OvenProcess.Start(
                    new OvenSettings
                    {
                        Database = database,
                        Name = OvenName(i),
                        BakeTime = _options.BakeTime,
                        Lease = _options.Lease,
                        PowerCutOnPizza = i == _options.FailingOven ? _options.PowerCutOnPizza : null,
                    },
                    events.Writer));
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_options.Timeout);
            var log = new List<OvenEvent>();
            var ready = new HashSet<string>(StringComparer.Ordinal);
            while (ready.Count < ovens.Count)
            {
                OvenEvent e = await ReadAsync(events.Reader, ovens, "the ovens to start", deadline.Token);
                log.Add(e);
                if (e.Kind == OvenEventKind.Ready)
                {
                    ready.Add(e.Oven);
                }
                else if (e.Kind == OvenEventKind.Exited)
                {
                    OvenProcess oven = ovens.First(o => o.Name == e.Oven);
                    throw new InvalidOperationException($"{e.Oven} exited with code {e.ExitCode} before it was ready:{Environment.NewLine}{oven.StandardError}");
                }
            }

            output.WriteLine(Invariant($"{string.Join(", ", ovens.Select(o => $"{o.Name} (pid {o.ProcessId})"))} are hot. {OvenName(_options.FailingOven)} will lose power halfway through its pizza #{_options.PowerCutOnPizza}."));
            output.WriteLine();

            // Customers order one pizza at a time; each order is one task.
            var contents = new Dictionary<long, string>();
            for (int i = 0; i < _options.Orders; i++)
            {
                string pizza = PizzaOrder.Menu[i % PizzaOrder.Menu.Count];
                EnqueueResult order = await queue.EnqueueAsync(PizzaOrder.Queue, new PizzaOrder(pizza), cancellationToken: cancellationToken);
                contents[order.TaskId] = pizza;
            }

            board.WriteHeader();
            var done = new Dictionary<long, OrderOutcome>();
            var died = new List<string>();
            long? interrupted = null;
            while (done.Count < contents.Count)
            {
                // Oven reports first (they explain what happened), then the store (which says what is done).
                foreach (OvenEvent e in await ReadBatchAsync(events.Reader, TimeSpan.FromMilliseconds(100), ovens, deadline.Token))
                {
                    log.Add(e);
                    if (e.Kind == OvenEventKind.Exited)
                    {
                        died.Add(e.Oven);
                        interrupted ??= log.Where(x => x.Oven == e.Oven && x.Kind == OvenEventKind.Baking)
                            .Select(x => (long?)x.OrderId)
                            .LastOrDefault(id => !log.Any(x => x.Oven == e.Oven && x.Kind == OvenEventKind.Baked && x.OrderId == id));
                        board.WriteNote(interrupted is { } id
                            ? Invariant($"✗ {e.Oven} lost power halfway through order {id} ({contents.GetValueOrDefault(id)}): process killed, exit code {e.ExitCode}; its heartbeats stop")
                            : Invariant($"✗ {e.Oven} died (exit code {e.ExitCode}) holding no order"));
                    }
                    else if (e.Kind == OvenEventKind.Baking && e.Attempt > 1 && interrupted == e.OrderId && !died.Contains(e.Oven))
                    {
                        board.WriteNote(Invariant($"↻ order {e.OrderId}: {died[0]}'s lease ran out; {e.Oven} takes it over (attempt {e.Attempt})"));
                    }
                }

                IReadOnlyList<TaskSnapshot> tasks = await queue.ListAsync(new TaskQuery { Queue = PizzaOrder.Queue, IncludePayload = false, Limit = 1000 }, cancellationToken);
                foreach (TaskSnapshot task in tasks.Where(t => t.State == TaskState.Completed && !done.ContainsKey(t.Id)))
                {
                    OrderOutcome outcome = Describe(task, contents[task.Id], log, died);
                    done[task.Id] = outcome;
                    board.WriteRow(outcome);
                }
            }

            TimeSpan elapsed = clock.Elapsed;
            string? deadOven = died.FirstOrDefault();

            // Close time: the surviving ovens are told to stop and must exit cleanly.
            var exitCodes = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (OvenProcess oven in ovens.Where(o => !died.Contains(o.Name)))
            {
                exitCodes[oven.Name] = await oven.HangUpAsync(TimeSpan.FromSeconds(15));
            }

            while (events.Reader.TryRead(out OvenEvent? late))
            {
                log.Add(late);
            }

            // Final word from the store: every order as it is now.
            IReadOnlyList<TaskSnapshot> final = await queue.ListAsync(new TaskQuery { Queue = PizzaOrder.Queue, IncludePayload = false, Limit = 1000 }, cancellationToken);
            OrderOutcome[] orders = [.. final.OrderBy(t => t.Id).Select(t => Describe(t, contents[t.Id], log, died))];
            List<string> violations = Check(orders, log, died, interrupted, exitCodes, ovens);

            output.WriteLine();
            output.WriteLine("The board at closing time:");
            board.WriteTable(orders);
            output.WriteLine(Summary(orders, deadOven, interrupted, elapsed, violations));
            foreach (string violation in violations)
            {
                output.WriteLine($"  - {violation}");
            }

            return new PizzaShopResult(orders, deadOven, interrupted, log, elapsed, violations);
        }
        finally
        {
            foreach (OvenProcess oven in ovens)
            {
                await oven.DisposeAsync();
            }
        }
    }

    private static OrderOutcome Describe(TaskSnapshot task, string contents, List<OvenEvent> log, List<string> died)
    {
        int timesBaked = log.Count(e => e.Kind == OvenEventKind.Baked && e.OrderId == task.Id);
        string[] diedHoldingIt = [.. log.Where(e => e.Kind == OvenEventKind.Baking && e.OrderId == task.Id && e.Oven != task.LeasedBy && died.Contains(e.Oven))
            .Select(e => e.Oven)
            .Distinct()];
        string done = task.State switch
        {
            TaskState.Completed when diedHoldingIt.Length > 0 => Invariant($"✓ {task.LeasedBy} (attempt {task.Attempts}, after {string.Join(" and ", diedHoldingIt)} died)"),
            TaskState.Completed => Invariant($"✓ {task.LeasedBy} (attempt {task.Attempts})"),
            _ => task.State.ToString(),
        };
        return new OrderOutcome(task.Id, contents, task.State, task.LeasedBy, task.Attempts, task.LeaseToken, timesBaked, done);
    }

    private List<string> Check(OrderOutcome[] orders, List<OvenEvent> log, List<string> died, long? interrupted, Dictionary<string, int> exitCodes, List<OvenProcess> ovens)
    {
        var violations = new List<string>();
        foreach (OrderOutcome order in orders)
        {
            if (order.State != TaskState.Completed)
            {
                violations.Add(Invariant($"order {order.Id} is {order.State}, not completed"));
            }

            if (order.TimesBaked != 1)
            {
                violations.Add(Invariant($"order {order.Id} came out of an oven {order.TimesBaked} times"));
            }

            OvenEvent? baked = log.LastOrDefault(e => e.Kind == OvenEventKind.Baked && e.OrderId == order.Id);
            if (baked is not null && (baked.Oven != order.CompletedBy || baked.LeaseToken != order.LeaseToken))
            {
                violations.Add(Invariant($"order {order.Id} was baked by {baked.Oven} (lease {baked.LeaseToken}) but completed under {order.CompletedBy} (lease {order.LeaseToken})"));
            }
        }

        string failing = OvenName(_options.FailingOven);
        if (died.Count != 1 || died[0] != failing)
        {
            violations.Add($"{failing} should have lost power and no other oven should have died; the ovens that died: {(died.Count == 0 ? "none" : string.Join(", ", died))}");
        }
        else if (interrupted is not { } id)
        {
            violations.Add($"{failing} died without a pizza in it");
        }
        else
        {
            OrderOutcome order = orders.Single(o => o.Id == id);
            long deadToken = log.Where(e => e.Kind == OvenEventKind.Baking && e.Oven == failing && e.OrderId == id).Select(e => e.LeaseToken).Max();
            if (order.CompletedBy == failing || order.Attempts < 2 || order.LeaseToken <= deadToken)
            {
                violations.Add(Invariant($"order {id} should have been finished by another oven on a later attempt, under a newer lease; it was {order.CompletedBy}, attempt {order.Attempts}, lease {order.LeaseToken} (the dead oven's was {deadToken})"));
            }
        }

        foreach ((string oven, int code) in exitCodes.Where(pair => pair.Value != 0))
        {
            violations.Add(Invariant($"{oven} did not stop cleanly (exit code {code}): {ovens.First(o => o.Name == oven).StandardError}"));
        }

        return violations;
    }

    private static string Summary(OrderOutcome[] orders, string? deadOven, long? interrupted, TimeSpan elapsed, List<string> violations)
    {
        int completed = orders.Count(o => o.State == TaskState.Completed);
        if (violations.Count > 0)
        {
            return Invariant($"{completed} of {orders.Length} orders done, but {violations.Count} promise(s) broken:");
        }

        OrderOutcome rescued = orders.Single(o => o.Id == interrupted);
        return Invariant($"All {orders.Length} orders done, each baked exactly once; order {rescued.Id} ({rescued.Contents}) was finished by {rescued.CompletedBy} on attempt {rescued.Attempts} after {deadOven} died. {elapsed.TotalSeconds:0.0} s.");
    }

    private static async Task<OvenEvent> ReadAsync(ChannelReader<OvenEvent> reader, List<OvenProcess> ovens, string waitingFor, CancellationToken deadline)
    {
        try
        {
            return await reader.ReadAsync(deadline);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"Gave up waiting for {waitingFor}.{Environment.NewLine}{string.Join(Environment.NewLine, ovens.Select(o => $"{o.Name}: {o.StandardError}"))}");
        }
    }

    /// <summary>Waits up to <paramref name="wait"/> for the next event, then takes every event already there.</summary>
    private static async Task<List<OvenEvent>> ReadBatchAsync(ChannelReader<OvenEvent> reader, TimeSpan wait, List<OvenProcess> ovens, CancellationToken deadline)
    {
        var batch = new List<OvenEvent>();
        using var tick = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        tick.CancelAfter(wait);
        try
        {
            batch.Add(await reader.ReadAsync(tick.Token));
        }
        catch (OperationCanceledException) when (!deadline.IsCancellationRequested)
        {
            // Nothing new from the ovens in this tick.
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The orders were not all done in time.{Environment.NewLine}{string.Join(Environment.NewLine, ovens.Select(o => $"{o.Name}: {o.StandardError}"))}");
        }

        while (reader.TryRead(out OvenEvent? e))
        {
            batch.Add(e);
        }

        return batch;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The order board: ID | Contents | Done, one row per order as it is done, notes between them.</summary>
    private sealed class Board(TextWriter output, Stopwatch clock)
    {
        private const string Header = "   ID | Contents | Done";
        private const string Rule = "  ----+----------+---------------------------------------";

        public void WriteHeader()
        {
            output.WriteLine(Header);
            output.WriteLine(Rule);
        }

        public void WriteRow(OrderOutcome order) =>
            output.WriteLine(Invariant($"  {order.Id,3} | {order.Contents,-8} | {order.Done}"));

        public void WriteNote(string note) =>
            output.WriteLine(Invariant($"        [{clock.Elapsed.TotalSeconds,4:0.0} s] {note}"));

        public void WriteTable(IEnumerable<OrderOutcome> orders)
        {
            WriteHeader();
            foreach (OrderOutcome order in orders)
            {
                WriteRow(order);
            }

            output.WriteLine();
        }
    }
}
