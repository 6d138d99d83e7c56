using BuildingBlocks.Sagas.Analysis;

// dotnet run -c Release --project benchmarks/BuildingBlocks.Sagas.Analysis -- [checkpoint|throughput|resume|all] [sqlite|postgres|memory]
string what = args.Length > 0 ? args[0] : "all";
string[] kinds = args.Length > 1 ? [args[1]] : ["sqlite", "postgres"];
foreach (string kind in kinds)
{
    await using StoreChoice stores = await StoreChoice.CreateAsync(kind);
    if (what is "checkpoint" or "all")
    {
        await Measurements.CheckpointAsync(stores, sagas: 20, steps: 50);
    }

    if (what is "throughput" or "all")
    {
        await Measurements.ThroughputAsync(stores, sagas: 1000, steps: 10, concurrency: 64);
        await Measurements.ThroughputAsync(stores, sagas: 2000, steps: 10, concurrency: 256);
    }

    if (what is "resume" or "all")
    {
        await Measurements.ResumeAsync(stores, sagas: 10_000, concurrency: 64);
        await Measurements.ResumeAsync(stores, sagas: 10_000, concurrency: 1024);
    }
}
