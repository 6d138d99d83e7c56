namespace BuildingBlocks.Testing.Tests.Redis;

/// <summary>The shared server of the assembly fixture answers on loopback.</summary>
public sealed class RedisFixtureTests(RedisFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Server_WhenStarted_AnswersPingOnLoopback()
    {
        Assert.True(fixture.Server.IsRunning);
        Assert.True(await fixture.Server.PingAsync(Ct));
        Assert.Equal($"127.0.0.1:{fixture.Server.Port}", fixture.ConnectionString);
    }
}
