namespace BuildingBlocks.ConsistentHashing;

/// <summary>A key was looked up while the consistent hash had no nodes.</summary>
public sealed class EmptyRingException : InvalidOperationException
{
    /// <summary>Creates the exception with the standard message.</summary>
    public EmptyRingException()
        : base("The consistent hash has no nodes. Add at least one node before looking up keys, or use TryGetNode to handle an empty membership.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public EmptyRingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public EmptyRingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
