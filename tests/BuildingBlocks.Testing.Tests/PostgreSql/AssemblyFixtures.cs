using BuildingBlocks.Testing;

// One PostgreSQL server for the whole test assembly; test classes take PostgreSqlFixture in their constructor.
[assembly: AssemblyFixture(typeof(PostgreSqlFixture))]
