using System.Diagnostics.CodeAnalysis;

namespace BuildingBlocks.Caching;

/// <summary>What a backing store returned for one key: a value, or the fact that it has none.</summary>
/// <typeparam name="TValue">The cached type.</typeparam>
[SuppressMessage("Design", "CA1000:Do not declare static members on generic types", Justification = "Found/NotFound read like Nullable<T> and Optional<T>; a store writes LoadResult<Product>.NotFound.")]
public readonly struct LoadResult<TValue>
{
    private LoadResult(TValue value)
    {
        Value = value;
        HasValue = true;
    }

    /// <summary>The store has no value for the key.</summary>
    public static LoadResult<TValue> NotFound => default;

    /// <summary>True when the store returned a value.</summary>
    public bool HasValue { get; }

    /// <summary>The value; <see langword="default"/> when <see cref="HasValue"/> is false.</summary>
    public TValue Value { get; }

    /// <summary>The store returned <paramref name="value"/>.</summary>
    public static LoadResult<TValue> Found(TValue value) => new(value);

    /// <summary>Lets a store write <c>return product;</c>.</summary>
    public static implicit operator LoadResult<TValue>(TValue value) => new(value);
}
