using Microsoft.Extensions.Options;

namespace BuildingBlocks.ConsistentHashing;

/// <summary>
/// Validates <see cref="ConsistentHashOptions{TNode}"/>, including the initial <see cref="ConsistentHashOptions{TNode}.Nodes"/>,
/// so a bad configuration fails at start-up. Every failure names the option, the value and the rule.
/// </summary>
/// <typeparam name="TNode">The node type.</typeparam>
public sealed class ConsistentHashOptionsValidator<TNode> : IValidateOptions<ConsistentHashOptions<TNode>>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ConsistentHashOptions<TNode> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Validate(name, options, options.Algorithm);
    }

    /// <summary>Validates for the algorithm actually built (a direct constructor ignores <see cref="ConsistentHashOptions{TNode}.Algorithm"/>).</summary>
    internal static ValidateOptionsResult Validate(string? name, ConsistentHashOptions<TNode> options, ConsistentHashAlgorithm algorithm)
    {
        string prefix = string.IsNullOrEmpty(name) ? "ConsistentHashOptions" : $"ConsistentHashOptions['{name}']";
        var failures = new List<string>();

        if (!Enum.IsDefined(algorithm))
        {
            failures.Add($"{prefix}.Algorithm = {(int)algorithm} is not a ConsistentHashAlgorithm value");
        }

        if (options.VirtualNodes is < 1 or > ConsistentHashOptions<TNode>.MaxVirtualNodes)
        {
            failures.Add($"{prefix}.VirtualNodes = {options.VirtualNodes}: must be from 1 to {ConsistentHashOptions<TNode>.MaxVirtualNodes}");
        }

        if (options.KeyHasher is null && !Enum.IsDefined(options.KeyHash))
        {
            failures.Add($"{prefix}.KeyHash = {(int)options.KeyHash} is not a KeyHashAlgorithm value");
        }

        bool hasKeys = options.NodeKeySelector is not null || typeof(TNode) == typeof(string);
        if (!hasKeys)
        {
            failures.Add($"{prefix}.NodeKeySelector is null: it is required when the node type is {typeof(TNode).Name} rather than string, so that every process derives the same positions from the same node");
        }

        int size = options.MaglevTableSize;
        if (size is < 7 or > ConsistentHashOptions<TNode>.MaxMaglevTableSize || !IsPrime(size))
        {
            failures.Add($"{prefix}.MaglevTableSize = {size}: must be a prime from 7 to {ConsistentHashOptions<TNode>.MaxMaglevTableSize} (for example 65537 or 655373)");
        }

        double epsilon = options.BoundedLoadEpsilon;
        if (!double.IsFinite(epsilon) || epsilon <= 0 || epsilon > 100)
        {
            failures.Add($"{prefix}.BoundedLoadEpsilon = {epsilon}: must be greater than 0 and at most 100 (0.25 caps each node at 1.25 × the average load)");
        }

        ValidateNodes(prefix, options, algorithm, hasKeys, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateNodes(string prefix, ConsistentHashOptions<TNode> options, ConsistentHashAlgorithm algorithm, bool hasKeys, List<string> failures)
    {
        if (algorithm == ConsistentHashAlgorithm.Maglev && options.Nodes.Count > options.MaglevTableSize)
        {
            failures.Add($"{prefix}.Nodes has {options.Nodes.Count} nodes: more than MaglevTableSize = {options.MaglevTableSize} slots; choose a prime above 100 × the node count");
        }

        Func<TNode, string?> keyOf = options.NodeKeySelector is { } selector ? n => selector(n) : n => n as string;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < options.Nodes.Count; i++)
        {
            WeightedNode<TNode> node = options.Nodes[i];
            if (node.Node is null)
            {
                failures.Add($"{prefix}.Nodes[{i}] is null");
                continue;
            }

            if (!double.IsFinite(node.Weight) || node.Weight <= 0)
            {
                failures.Add($"{prefix}.Nodes[{i}].Weight = {node.Weight}: must be finite and greater than 0");
            }
            else if (algorithm == ConsistentHashAlgorithm.Jump && node.Weight != 1.0)
            {
                failures.Add($"{prefix}.Nodes[{i}].Weight = {node.Weight}: the Jump algorithm does not support weights other than 1; use Ring, Rendezvous or Maglev for weighted nodes");
            }

            if (!hasKeys)
            {
                continue;
            }

            string? key = keyOf(node.Node);
            if (string.IsNullOrWhiteSpace(key))
            {
                failures.Add($"{prefix}.Nodes[{i}]: {ConsistentHash<TNode>.NodeKeyProblem(node.Node, key).TrimEnd('.')}");
            }
            else if (!seen.Add(key))
            {
                failures.Add($"{prefix}.Nodes[{i}] has key '{key}', which an earlier node already has: node keys must be unique");
            }
        }
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
