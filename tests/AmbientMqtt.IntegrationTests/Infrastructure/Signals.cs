using System.Runtime.InteropServices;

namespace AmbientMqtt.IntegrationTests.Infrastructure;

/// <summary>POSIX signals, which <see cref="System.Diagnostics.Process"/> cannot send except SIGKILL.</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;
    private const int SigInt = 2;
    private const int SigStop = 19;
    private const int SigCont = 18;

    public static void Terminate(int pid) => Send(pid, SigTerm);

    public static void Interrupt(int pid) => Send(pid, SigInt);

    /// <summary>Freezes the process: its sockets stay open and silent, as a Pi that lost power or its network looks to
    /// the broker.</summary>
    public static void Stop(int pid) => Send(pid, SigStop);

    public static void Continue(int pid) => Send(pid, SigCont);

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
