using System.Device.I2c;

namespace AmbientMqtt.Tests.Sensors;

/// <summary>
/// An I2C device backed by a 256-byte register map that behaves like a BME280 on the bus: a write's first byte sets the
/// register pointer, further bytes come in (register, value) pairs; reads return bytes from the pointer on, incrementing
/// it. Writing forced or normal mode to ctrl_meas (0xF4) can keep status bit 3 (measuring) set for a number of polls.
/// </summary>
internal sealed class SimulatedI2cDevice : I2cDevice
{
    private const byte StatusRegister = 0xF3;
    private const byte CtrlMeasRegister = 0xF4;
    private const byte Measuring = 0x08;

    private readonly byte[] _registers = new byte[256];
    private readonly List<(byte Register, byte Value)> _writes = [];
    private readonly I2cConnectionSettings _connectionSettings;
    private byte _pointer;
    private int _busyPollsLeft;

    public SimulatedI2cDevice(int busId = 1, int address = 0x76)
    {
        _connectionSettings = new I2cConnectionSettings(busId, address);
    }

    public override I2cConnectionSettings ConnectionSettings => _connectionSettings;

    /// <summary>Register writes, in order (pointer-only writes are not included).</summary>
    public IReadOnlyList<(byte Register, byte Value)> Writes => _writes;

    /// <summary>How many status reads report "measuring" after each measurement is triggered; <see cref="int.MaxValue"/> for ever.</summary>
    public int MeasuringPolls { get; set; }

    /// <summary>Status reads so far.</summary>
    public int StatusReads { get; private set; }

    /// <summary>Measurements triggered so far (writes of forced or normal mode to ctrl_meas).</summary>
    public int MeasurementsTriggered { get; private set; }

    /// <summary>When set, every transfer throws it.</summary>
    public Exception? Failure { get; set; }

    public bool IsDisposed { get; private set; }

    public byte this[byte register]
    {
        get => _registers[register];
        set => _registers[register] = value;
    }

    public void SetRegisters(byte first, ReadOnlySpan<byte> values) => values.CopyTo(_registers.AsSpan(first));

    public override byte ReadByte()
    {
        Span<byte> value = stackalloc byte[1];
        Read(value);
        return value[0];
    }

    public override void Read(Span<byte> buffer)
    {
        ThrowIfFailing();
        for (var i = 0; i < buffer.Length; i++)
        {
            buffer[i] = ReadAt(_pointer);
            _pointer = unchecked((byte)(_pointer + 1));
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfFailing();
        var i = 0;
        for (; i + 1 < buffer.Length; i += 2)
        {
            WriteAt(buffer[i], buffer[i + 1]);
        }

        if (i < buffer.Length)
        {
            _pointer = buffer[i];
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    protected override void Dispose(bool disposing)
    {
        IsDisposed = true;
        base.Dispose(disposing);
    }

    private void ThrowIfFailing()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (Failure is not null)
        {
            throw Failure;
        }
    }

    private byte ReadAt(byte register)
    {
        if (register != StatusRegister)
        {
            return _registers[register];
        }

        StatusReads++;
        var status = _registers[StatusRegister];
        if (_busyPollsLeft > 0)
        {
            if (_busyPollsLeft != int.MaxValue)
            {
                _busyPollsLeft--;
            }

            return (byte)(status | Measuring);
        }

        return (byte)(status & ~Measuring);
    }

    private void WriteAt(byte register, byte value)
    {
        _writes.Add((register, value));
        _registers[register] = value;
        _pointer = register;
        if (register == CtrlMeasRegister && (value & 0b11) != 0)
        {
            MeasurementsTriggered++;
            _busyPollsLeft = MeasuringPolls;
        }
    }
}
