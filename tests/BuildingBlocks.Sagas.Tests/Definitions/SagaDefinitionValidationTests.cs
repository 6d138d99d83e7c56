using BuildingBlocks.Sagas.Tests.Support;

namespace BuildingBlocks.Sagas.Tests.Definitions;

public sealed class SagaDefinitionValidationTests
{
    private static readonly Func<SagaStepContext<TestData>, CancellationToken, Task> Ok = (_, _) => Task.CompletedTask;

    /// <summary>A broken definition per case: its name, version, steps, and the message part the exception must carry.</summary>
    private static (string Name, int Version, Action<SagaBuilder<TestData>> Define, string Expected) Case(string problem) => problem switch
    {
        "no steps" => ("order", 1, _ => { }, "it has no steps: declare at least one with saga.Step(\"name\").Execute(...)"),
        "duplicate step" => ("order", 1, s =>
        {
            s.Step("pay").Execute(Ok);
            s.Step("pay").Execute(Ok);
        }, "two steps are named 'pay': step names must be unique"),
        "duplicate across a group" => ("order", 1, s =>
        {
            s.Step("pay").Execute(Ok);
            s.Parallel("group", p =>
            {
                p.Step("pay").Execute(Ok);
                p.Step("other").Execute(Ok);
            });
        }, "two steps are named 'pay'"),
        "slash" => ("order", 1, s => s.Step("pay/now").Execute(Ok), "step 'pay/now' contains '/', which separates the parts of idempotency keys"),
        "no execute" => ("order", 1, s => s.Step("pay").Compensate(Ok), "step 'pay' has no action: call .Execute(...)"),
        "compensate when failed without compensation" => ("order", 1, s => s.Step("pay").Execute(Ok).CompensateWhenFailed(),
            "step 'pay' is marked CompensateWhenFailed but has no compensation"),
        "group of one" => ("order", 1, s => s.Parallel("book", p => p.Step("flight").Execute(Ok)),
            "parallel group 'book' has 1 branch(es): a group needs at least two (use Step for one)"),
        "empty group" => ("order", 1, s => s.Parallel("book", _ => { }), "parallel group 'book' has 0 branch(es)"),
        "zero timeout" => ("order", 1, s => s.Step("pay").Execute(Ok).WithTimeout(TimeSpan.Zero),
            "step 'pay' timeout is 00:00:00: it must be positive and at most 365 days"),
        "negative step timeout" => ("order", 1, s => s.Step("pay").Execute(Ok).WithStepTimeout(TimeSpan.FromSeconds(-1)),
            "step 'pay' step timeout is -00:00:01: it must be positive"),
        "zero compensation timeout" => ("order", 1, s => s.Step("pay").Execute(Ok).Compensate(Ok).WithCompensationTimeout(TimeSpan.Zero),
            "step 'pay' compensation timeout is 00:00:00"),
        "huge timeout" => ("order", 1, s => s.Step("pay").Execute(Ok).WithTimeout(TimeSpan.FromDays(366)), "step 'pay' timeout is 366.00:00:00"),
        "zero deadline" => ("order", 1, s =>
        {
            s.WithDeadline(TimeSpan.Zero);
            s.Step("pay").Execute(Ok);
        }, "the deadline is 00:00:00: it must be positive"),
        "zero attempts" => ("order", 1, s => s.Step("pay").Execute(Ok).WithRetry(0), "step 'pay' retry.MaxAttempts is 0: it must be at least 1 (1 = no retry)"),
        "negative delay" => ("order", 1, s => s.Step("pay").Execute(Ok).WithRetry(3, r => r.InitialDelay = TimeSpan.FromSeconds(-1)),
            "step 'pay' retry.InitialDelay (-00:00:01) and MaxDelay (00:00:30) must not be negative"),
        "initial over max" => ("order", 1, s => s.Step("pay").Execute(Ok).WithRetry(3, r =>
        {
            r.InitialDelay = TimeSpan.FromMinutes(2);
            r.MaxDelay = TimeSpan.FromMinutes(1);
        }), "step 'pay' retry.InitialDelay (00:02:00) is larger than MaxDelay (00:01:00)"),
        "max delay over a day" => ("order", 1, s => s.Step("pay").Execute(Ok).WithRetry(3, r => r.MaxDelay = TimeSpan.FromDays(2)),
            "step 'pay' retry.MaxDelay is 2.00:00:00: it must be at most one day"),
        "backoff below one" => ("order", 1, s => s.Step("pay").Execute(Ok).WithRetry(3, r => r.BackoffFactor = 0.5),
            "step 'pay' retry.BackoffFactor is 0.5: it must be between 1 and 100"),
        "backoff NaN" => ("order", 1, s => s.Step("pay").Execute(Ok).WithRetry(3, r => r.BackoffFactor = double.NaN),
            "step 'pay' retry.BackoffFactor is NaN"),
        "jitter over one" => ("order", 1, s => s.Step("pay").Execute(Ok).WithRetry(3, r => r.Jitter = 1.5),
            "step 'pay' retry.Jitter is 1.5: it must be between 0 and 1"),
        "bad compensation retry" => ("order", 1, s => s.Step("pay").Execute(Ok).Compensate(Ok).WithCompensationRetry(0),
            "step 'pay' compensation retry.MaxAttempts is 0"),
        "resumes itself" => ("order", 2, s =>
        {
            s.ResumesVersions(2);
            s.Step("pay").Execute(Ok);
        }, "ResumesVersions(2) must list older versions only (1 to 1)"),
        "resumes newer" => ("order", 2, s =>
        {
            s.ResumesVersions(1, 3);
            s.Step("pay").Execute(Ok);
        }, "ResumesVersions(1, 3) must list older versions only (1 to 1)"),
        "resumes zero" => ("order", 3, s =>
        {
            s.ResumesVersions(0);
            s.Step("pay").Execute(Ok);
        }, "ResumesVersions(0) must list older versions only (1 to 2)"),
        "version zero" => ("order", 0, s => s.Step("pay").Execute(Ok), "Saga 'order' version 0 (ScriptedSaga`2): the version must be at least 1."),
        "empty saga name" => ("", 1, s => s.Step("pay").Execute(Ok), "Saga definition ScriptedSaga`2: the saga name is empty."),
        "long saga name" => (new string('n', 101), 1, s => s.Step("pay").Execute(Ok),
            "Saga definition ScriptedSaga`2: the saga name 'nnnnnnnnnnnnnnnnnnnn…' is 101 characters long: at most 100."),
        "control char saga name" => ("order\n", 1, s => s.Step("pay").Execute(Ok), "the saga name 'order\n' contains a control character"),
        "empty step name" => ("order", 1, s => s.Step(" ").Execute(Ok), "a step name is empty"),
        "long step name" => ("order", 1, s => s.Step(new string('s', 101)).Execute(Ok), "a step name 'ssssssssssssssssssss…' is 101 characters long: at most 100"),
        "control char step name" => ("order", 1, s => s.Step("pay\t").Execute(Ok), "a step name 'pay\t' contains a control character"),
        "empty group name" => ("order", 1, s => s.Parallel("", p =>
        {
            p.Step("a").Execute(Ok);
            p.Step("b").Execute(Ok);
        }), "a parallel group name is empty"),
        "define throws" => ("order", 1, _ => throw new InvalidOperationException("config missing"), "Define threw InvalidOperationException: config missing"),
        _ => throw new ArgumentOutOfRangeException(nameof(problem), problem, null),
    };

    public static TheoryData<string> Problems =>
    [
        "no steps", "duplicate step", "duplicate across a group", "slash", "no execute", "compensate when failed without compensation",
        "group of one", "empty group", "zero timeout", "negative step timeout", "zero compensation timeout", "huge timeout", "zero deadline",
        "zero attempts", "negative delay", "initial over max", "max delay over a day", "backoff below one", "backoff NaN", "jitter over one",
        "bad compensation retry", "resumes itself", "resumes newer", "resumes zero", "version zero", "empty saga name", "long saga name",
        "control char saga name", "empty step name", "long step name", "control char step name", "empty group name", "define throws",
    ];

    [Theory]
    [MemberData(nameof(Problems))]
    public async Task InvalidDefinition_FailsTheHostStart_WithAMessageSayingWhatIsWrong(string problem)
    {
        (string name, int version, Action<SagaBuilder<TestData>> define, string expected) = Case(problem);
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Start = false;
            b.Saga(name, version, define);
        });

        SagaDefinitionException error = await Assert.ThrowsAsync<SagaDefinitionException>(host.StartAsync);

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidDefinition_FailsTheHostStart_EvenWithoutACoordinator()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Start = false;
            b.Options(o => o.RunCoordinator = false);
            b.Saga("order", _ => { });
        });

        await Assert.ThrowsAsync<SagaDefinitionException>(host.StartAsync);
    }

    [Fact]
    public async Task SeveralProblems_AreAllListed_WithTheSagaNamed()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Start = false;
            b.Saga("order", 1, s =>
            {
                s.Step("a/b").Execute(Ok);
                s.Step("c").CompensateWhenFailed();
            });
        });

        SagaDefinitionException error = await Assert.ThrowsAsync<SagaDefinitionException>(host.StartAsync);

        Assert.Equal(
            "Saga 'order' version 1 (ScriptedSaga`2) is invalid: step 'a/b' contains '/', which separates the parts of idempotency keys; "
            + "step 'c' has no action: call .Execute(...); step 'c' is marked CompensateWhenFailed but has no compensation.",
            error.Message);
    }

    [Fact]
    public async Task SameNameAndVersionRegisteredTwice_FailsTheHostStart()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Start = false;
            b.Saga("order", 1, s => s.Step("a").Execute(Ok));
            b.Saga("order", 1, s => s.Step("b").Execute(Ok));
        });

        SagaDefinitionException error = await Assert.ThrowsAsync<SagaDefinitionException>(host.StartAsync);

        Assert.Equal("Saga 'order' version 1 is registered twice (TestData data): give each definition its own Name or Version.", error.Message);
    }

    [Fact]
    public async Task VersionsOfOneSagaWithDifferentDataTypes_FailTheHostStart()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Start = false;
            b.Saga("order", 1, s => s.Step("a").Execute(Ok));
            b.Saga<Data.SagaDataTests.CyclicData>("order", 2, s => s.Step("a").Execute((_, _) => Task.CompletedTask));
        });

        SagaDefinitionException error = await Assert.ThrowsAsync<SagaDefinitionException>(host.StartAsync);

        Assert.Contains("The versions of saga 'order' use different data types", error.Message, StringComparison.Ordinal);
    }

    public sealed class BrokenSaga : SagaDefinition<TestData>
    {
        protected override void Define(SagaBuilder<TestData> saga) => saga.Step("pay");
    }

    public sealed class ValidSaga : SagaDefinition<TestData>
    {
        public override string Name => "valid";

        protected override void Define(SagaBuilder<TestData> saga) => saga.Step("pay").Execute(Ok);
    }

    [Fact]
    public void ToMermaid_OfAnInvalidDefinition_ThrowsTheSameException()
    {
        SagaDefinitionException error = Assert.Throws<SagaDefinitionException>(() => new BrokenSaga().ToMermaid());

        Assert.Equal("Saga 'BrokenSaga' version 1 (BrokenSaga) is invalid: step 'pay' has no action: call .Execute(...).", error.Message);
    }

    [Fact]
    public async Task ValidDefinitions_StartTheHost_AndTheInvalidOneAmongThemIsNamed()
    {
        await using SagaTestHost host = await SagaTestHost.StartAsync(b =>
        {
            b.Start = false;
            b.Definition<ValidSaga, TestData>();
            b.Definition<BrokenSaga, TestData>();
        });

        SagaDefinitionException error = await Assert.ThrowsAsync<SagaDefinitionException>(host.StartAsync);

        Assert.StartsWith("Saga 'BrokenSaga'", error.Message, StringComparison.Ordinal);
    }
}
