namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddSagas</c>: register saga definitions (<c>AddSaga</c>) and plug in a store (<c>UseSqlite</c>, <c>UsePostgreSql</c>).</summary>
public interface ISagasBuilder
{
    /// <summary>The services.</summary>
    IServiceCollection Services { get; }
}
