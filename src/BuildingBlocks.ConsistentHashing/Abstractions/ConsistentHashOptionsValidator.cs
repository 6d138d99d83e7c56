using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>Validates <see cref="ConsistentHashOptions{TNode}"/>; every failure names the option, the value and the rule.</summary>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class ConsistentHashOptionsValidator<TNode> : IValidateOptions<ConsistentHashOptions<TNode>>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ConsistentHashOptions<TNode> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string prefix = string.IsNullOrEmpty(name) ? "ConsistentHashOptions" : $"ConsistentHashOptions['{name}']";
        var failures = new List<string>();

        if (!Enum.IsDefined(options.Algorithm))
        {
            failures.Add($"{prefix}.Algorithm = {(int)options.Algorithm} is not a ConsistentHashAlgorithm value.");
        }

        if (options.VirtualNodes is < 1 or > ConsistentHashOptions<TNode>.MaxVirtualNodes)
        {
            failures.Add($"{prefix}.VirtualNodes = {options.VirtualNodes}: must be from 1 to {ConsistentHashOptions<TNode>.MaxVirtualNodes}.");
        }

        if (options.KeyHasher is null && !Enum.IsDefined(options.KeyHash))
        {
            failures.Add($"{prefix}.KeyHash = {(int)options.KeyHash} is not a KeyHashAlgorithm value.");
        }

        if (options.NodeKeySelector is null && typeof(TNode) != typeof(string))
        {
            failures.Add($"{prefix}.NodeKeySelector is null: it is required when the node type is {typeof(TNode).Name} rather than string, so that every process derives the same positions from the same node.");
        }

        int size = options.MaglevTableSize;
        if (size is < 7 or > ConsistentHashOptions<TNode>.MaxMaglevTableSize || !IsPrime(size))
        {
            failures.Add($"{prefix}.MaglevTableSize = {size}: must be a prime from 7 to {ConsistentHashOptions<TNode>.MaxMaglevTableSize} (for example 65537 or 655373).");
        }

        double epsilon = options.BoundedLoadEpsilon;
        if (!double.IsFinite(epsilon) || epsilon <= 0 || epsilon > 100)
        {
            failures.Add($"{prefix}.BoundedLoadEpsilon = {epsilon}: must be greater than 0 and at most 100 (0.25 caps each node at 1.25 × the average load).");
        }

        if (options.Algorithm == ConsistentHashAlgorithm.Jump && options.Nodes.Any(n => n.Weight != 1.0))
        {
            failures.Add($"{prefix}.Nodes: the Jump algorithm does not support weights other than 1; use Ring, Rendezvous or Maglev for weighted nodes.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsPrime(int n)
    {
        if (n < 2)
        {
            return false;
        }

        if (n % 2 == 0)
        {
            return n == 2;
        }

        for (int d = 3; (long)d * d <= n; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
