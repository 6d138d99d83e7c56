using BuildingBlocks.Testing;

// One Redis server for the whole test assembly; test classes take RedisFixture in their constructor.
[assembly: AssemblyFixture(typeof(RedisFixture))]
