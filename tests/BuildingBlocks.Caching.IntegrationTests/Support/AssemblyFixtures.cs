using BuildingBlocks.Testing;

// One Redis server for the assembly; every test uses an L2 instance name and a backplane channel of its own. The
// outage tests stop and restart a server of their own.
[assembly: AssemblyFixture(typeof(RedisFixture))]
