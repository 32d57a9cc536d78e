namespace AmbientMqtt;

/// <summary>
/// The store could not write a batch. Nothing of the batch was committed.
/// </summary>
public sealed class AmbientStorageException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public AmbientStorageException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public AmbientStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the underlying cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The underlying cause.</param>
    public AmbientStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets a value indicating whether retrying later may succeed (the server was unreachable or restarting),
    /// as opposed to a problem that needs a person (wrong password, missing database, missing privilege).</summary>
    public bool IsTransient { get; init; }
}
