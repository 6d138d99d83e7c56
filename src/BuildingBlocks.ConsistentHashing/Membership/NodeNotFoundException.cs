namespace BuildingBlocks.ConsistentHashing;

/// <summary>An operation named a node that is not a member.</summary>
public sealed class NodeNotFoundException : KeyNotFoundException
{
    /// <summary>Creates the exception for a node key.</summary>
    /// <param name="nodeKey">The key that was not found.</param>
    /// <param name="operation">What was attempted.</param>
    public NodeNotFoundException(string nodeKey, string operation)
        : base($"Cannot {operation}: no member has key '{nodeKey}'.")
    {
        NodeKey = nodeKey;
    }

    /// <summary>Creates the exception with the standard message.</summary>
    public NodeNotFoundException()
        : base("No member has that key.")
    {
        NodeKey = string.Empty;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public NodeNotFoundException(string message)
        : base(message)
    {
        NodeKey = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public NodeNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
        NodeKey = string.Empty;
    }

    /// <summary>The key that was not found.</summary>
    public string NodeKey { get; }
}
