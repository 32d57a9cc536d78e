namespace AmbientMqtt.Hosting;

/// <summary>
/// What stopped the program, when a long-running service stopped it: the exit code and the one line to say.
/// <see cref="Microsoft.Extensions.Hosting.AmbientHostExtensions.RunAmbientAsync(Microsoft.Extensions.Hosting.IHost, System.IO.TextWriter?)"/>
/// prints the line; a program that runs its host another way gets it as a critical log line instead.
/// </summary>
internal sealed class ProgramExit
{
    private readonly Lock _gate = new();

    /// <summary>Gets or sets a value indicating whether the program prints the line itself (so the log need not).</summary>
    public bool Reported { get; set; }

    /// <summary>Gets the first failure, or <see langword="null"/>.</summary>
    public (int Code, string Line)? Failure { get; private set; }

    /// <summary>Records a failure (the first one wins) and sets <see cref="Environment.ExitCode"/>.</summary>
    /// <returns><see langword="true"/> when nobody prints the line, so the caller should log it.</returns>
    public bool Fail(int code, string line)
    {
        lock (_gate)
        {
            if (Failure is null)
            {
                Failure = (code, line);
                Environment.ExitCode = code;
            }
        }

        return !Reported;
    }
}
