using System.Net.Sockets;
using MySqlConnector;

namespace AmbientMqtt.Storage;

/// <summary>
/// Sorts what MariaDB and MySqlConnector throw into the three cases the repository handles differently: one row the
/// server refuses, a server that is (for now) out of reach, and a problem that needs a person.
/// </summary>
internal static class MariaDbErrors
{
    // MariaDB's ER_CONNECTION_KILLED, which MySqlErrorCode (generated from MySQL's list) does not name.
    private const MySqlErrorCode ConnectionKilled = (MySqlErrorCode)1927;

    // ER_UNKNOWN_COM_ERROR, what a Galera node that is not (yet) part of the primary component answers with
    // ("WSREP has not yet prepared node for application use").
    private const MySqlErrorCode WsrepNotReady = (MySqlErrorCode)1047;

    /// <summary>Whether the server refused a statement because of the value of one row, so that the rest of the batch
    /// can land once that row is taken out.</summary>
    public static bool IsRowError(MySqlException exception) => exception.ErrorCode
        is MySqlErrorCode.DataTooLong
        or MySqlErrorCode.WarningDataOutOfRange
        or MySqlErrorCode.DataOutOfRange
        or MySqlErrorCode.TruncatedWrongValueForField
        or MySqlErrorCode.TruncatedWrongValue
        or MySqlErrorCode.WarningDataTruncated
        or MySqlErrorCode.WarningNullToNotNull
        or MySqlErrorCode.ColumnCannotBeNull
        or MySqlErrorCode.IllegalValueForType
        or MySqlErrorCode.DivisionByZero
        or MySqlErrorCode.NoReferencedRow2
        or (MySqlErrorCode)4025; // MariaDB's ER_CONSTRAINT_FAILED: a CHECK constraint someone added to the table.

    /// <summary>Whether retrying later may succeed: the server was unreachable, went away, or the transaction lost a
    /// race (deadlock, lock wait).</summary>
    public static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case MySqlException mySql when mySql.IsTransient || mySql.ErrorCode
                    is MySqlErrorCode.ServerShutdown
                    or MySqlErrorCode.ShutdownComplete
                    or MySqlErrorCode.ForcingClose
                    or MySqlErrorCode.IPSocketError
                    or MySqlErrorCode.AbortingConnection
                    or MySqlErrorCode.NetReadError
                    or MySqlErrorCode.NetReadInterrupted
                    or MySqlErrorCode.NetErrorOnWrite
                    or MySqlErrorCode.NetWriteInterrupted
                    or MySqlErrorCode.QueryInterrupted
                    or MySqlErrorCode.CommandTimeoutExpired
                    or MySqlErrorCode.TooManyUserConnections
                    or MySqlErrorCode.HandshakeError
                    or MySqlErrorCode.LockDeadlock
                    or MySqlErrorCode.LockWaitTimeout
                    or MySqlErrorCode.RecordFileFull
                    or MySqlErrorCode.DiskFull
                    or MySqlErrorCode.OutOfResources
                    or ConnectionKilled
                    or WsrepNotReady:
                case IOException:
                case SocketException:
                case TimeoutException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Whether the server may have committed what was sent although this side saw a failure: the reply was lost
    /// (a broken connection, a timeout), as opposed to an error the server answered with (a refusal, a conflict, which
    /// roll the transaction back).</summary>
    public static bool MayHaveCommitted(Exception exception)
    {
        if (IsConflict(exception))
        {
            return false;
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case MySqlException { ErrorCode: MySqlErrorCode.CommandTimeoutExpired or MySqlErrorCode.QueryInterrupted or ConnectionKilled }:
                case IOException:
                case SocketException:
                case TimeoutException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Whether the transaction lost a race and was rolled back: a deadlock, or Galera's certification conflict,
    /// which MariaDB reports as a deadlock at commit. Retrying at once succeeds or finds the rows stored.</summary>
    public static bool IsConflict(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is MySqlException { ErrorCode: MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout or MySqlErrorCode.XARBDeadlock })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the call already waited long (a command or lock timeout), so that an immediate retry would only
    /// wait again.</summary>
    public static bool IsTimeout(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is TimeoutException or MySqlException { ErrorCode: MySqlErrorCode.CommandTimeoutExpired or MySqlErrorCode.LockWaitTimeout })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the exception comes from talking to the server (as opposed to a bug on this side).</summary>
    public static bool IsDatabaseFailure(Exception exception) =>
        exception is MySqlException or IOException or SocketException or TimeoutException || IsTransient(exception);

    /// <summary>Turns a failure into the exception the caller gets: one line, naming the server and the cause, and never
    /// the password.</summary>
    public static AmbientStorageException Wrap(Exception exception, bool transient, string endpoint, string? password, string action)
    {
        var cause = Cause(exception);
        var message = transient
            ? IsFull(exception)
                ? $"MariaDB at {endpoint} is out of space ({cause}); {action} was not committed and is retried until space is freed."
                : $"MariaDB at {endpoint} is not reachable ({cause}); {action} was not committed and can be retried."
            : exception is MySqlException mySql ? Fatal(mySql, cause, endpoint, action) : $"MariaDB at {endpoint}: {action} failed: {cause}";

        return new AmbientStorageException(Scrub(message, password), exception) { IsTransient = transient };
    }

    /// <summary>Replaces the password in a message, should a server or driver message ever echo it. (Passwords shorter
    /// than three characters are left alone: replacing them would garble the message and hide nothing.)</summary>
    public static string Scrub(string message, string? password) =>
        !string.IsNullOrEmpty(password) && password.Length >= 3 ? message.Replace(password, "***", StringComparison.Ordinal) : message;

    private static string Fatal(MySqlException exception, string cause, string endpoint, string action) => exception.ErrorCode switch
    {
        MySqlErrorCode.AccessDenied =>
            $"MariaDB at {endpoint} refused the login: {cause}. Check the user name and password in the connection string.",
        MySqlErrorCode.UnknownDatabase =>
            $"MariaDB at {endpoint}: {cause}. Create the database or name an existing one in the connection string.",
        MySqlErrorCode.NoDatabaseSelected =>
            $"MariaDB at {endpoint}: the connection string names no database (Database=...).",
        // 1044: MariaDB says "access denied to database" both for a database the user may not use and for one that does
        // not exist (it does not tell a stranger which databases there are).
        MySqlErrorCode.DatabaseAccessDenied =>
            $"MariaDB at {endpoint}: {cause}. The database does not exist, or this user may not use it: create it (CREATE DATABASE) or grant the user its privileges on it.",
        MySqlErrorCode.TableAccessDenied or MySqlErrorCode.ColumnAccessDenied
            or MySqlErrorCode.SpecifiedAccessDeniedError =>
            $"MariaDB at {endpoint} denied {action}: {cause}. Grant the user the missing privilege.",
        MySqlErrorCode.NoSuchTable =>
            $"MariaDB at {endpoint}: {cause}. Call EnsureSchemaAsync first, or create the table.",
        _ => $"MariaDB at {endpoint} refused {action}: {cause} (error {(int)exception.ErrorCode}).",
    };

    private static bool IsFull(Exception exception) =>
        exception is MySqlException { ErrorCode: MySqlErrorCode.RecordFileFull or MySqlErrorCode.DiskFull or MySqlErrorCode.OutOfResources };

    private static string Cause(Exception exception)
    {
        // The outermost message of MySqlConnector ("Unable to connect to any of the specified MySQL hosts.") says less than
        // the socket error under it, so name both when they differ.
        var message = OneLine(exception.Message);
        var inner = exception.InnerException;
        while (inner?.InnerException is not null && inner is not SocketException)
        {
            inner = inner.InnerException;
        }

        if (inner is not null && inner.Message.Length > 0 && !message.Contains(inner.Message, StringComparison.Ordinal))
        {
            message = $"{message.TrimEnd('.')}: {OneLine(inner.Message)}";
        }

        return message.TrimEnd('.');
    }

    private static string OneLine(string text) =>
        text.ReplaceLineEndings(" ").Trim();
}
