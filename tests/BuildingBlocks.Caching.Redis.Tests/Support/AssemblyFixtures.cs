using BuildingBlocks.Testing;

// One Redis server for the whole test assembly; each test uses a channel prefix of its own. Tests of an outage start
// a server of their own.
[assembly: AssemblyFixture(typeof(RedisFixture))]
