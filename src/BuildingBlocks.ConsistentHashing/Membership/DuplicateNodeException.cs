namespace BuildingBlocks.ConsistentHashing;

/// <summary>A node was added whose key is already taken by a member.</summary>
public sealed class DuplicateNodeException : ArgumentException
{
    /// <summary>Creates the exception for a node key.</summary>
    /// <param name="nodeKey">The duplicated key.</param>
    /// <param name="paramName">The argument that held the node.</param>
    public DuplicateNodeException(string nodeKey, string? paramName)
        : base($"A node with key '{nodeKey}' is already a member. Node keys must be unique; use Replace to swap a member for another node.", paramName)
    {
        NodeKey = nodeKey;
    }

    /// <summary>Creates the exception with the standard message.</summary>
    public DuplicateNodeException()
        : base("A node with the same key is already a member.")
    {
        NodeKey = string.Empty;
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public DuplicateNodeException(string message)
        : base(message)
    {
        NodeKey = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public DuplicateNodeException(string message, Exception innerException)
        : base(message, innerException)
    {
        NodeKey = string.Empty;
    }

    /// <summary>The duplicated node key.</summary>
    public string NodeKey { get; }
}
