using System.Runtime.InteropServices;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>POSIX signals, which <see cref="System.Diagnostics.Process"/> cannot send except SIGKILL.</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;
    private const int SigInt = 2;
    private const int SigStop = 19;   // Linux x86-64 and arm64
    private const int SigCont = 18;

    public static void Terminate(int pid) => Send(pid, SigTerm);

    public static void Interrupt(int pid) => Send(pid, SigInt);

    /// <summary>Freezes a process (SIGSTOP): it keeps its sockets open and answers nothing, as a hung server.</summary>
    public static void Freeze(int pid) => Send(pid, SigStop);

    /// <summary>Lets a frozen process run again (SIGCONT).</summary>
    public static void Thaw(int pid) => Send(pid, SigCont);

    private static void Send(int pid, int signal)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
