using System.Device.I2c;
using System.Globalization;
using NodaTime;

namespace AmbientMqtt.Sensors;

/// <summary>
/// A Bosch BME280 on an I2C bus, measured in forced mode: each <see cref="ReadAsync"/> triggers one measurement, waits for
/// it without blocking a thread, and compensates it with the double formulas of Bosch's SensorAPI <c>bme280.c</c> v3.5.1.
/// </summary>
/// <remarks>
/// The sensor is initialized on first use (or by <see cref="InitializeAsync"/>): it checks the chip id, resets the chip,
/// reads its calibration and writes the configured oversampling and filter. A reading is stamped when the chip reports the
/// measurement done. Reads are serialized, so one instance can be shared. The sensor owns the <see cref="I2cDevice"/>
/// and disposes it.
/// </remarks>
public sealed class Bme280Sensor : ISensorSource, IDisposable
{
    // Datasheet table 1, start-up time after power-on or soft reset.
    private static readonly TimeSpan StartupTime = TimeSpan.FromMilliseconds(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(1);

    private readonly I2cDevice _device;
    private readonly Bme280Settings _settings;
    private readonly TimeProvider _timeProvider;
    private readonly int _busId;
    private readonly int _address;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Bme280Calibration? _calibration;
    private bool _disposed;

    /// <summary>Initializes a new instance that talks to a BME280 through <paramref name="device"/>.</summary>
    /// <param name="device">The device at the sensor's address; the sensor takes ownership and disposes it.</param>
    /// <param name="options">Oversampling, filter and timeout; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock that stamps readings and times the waits; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public Bme280Sensor(I2cDevice device, Bme280Options? options = null, TimeProvider? timeProvider = null)
        : this(device, Bme280Settings.From(options ?? new Bme280Options()), timeProvider)
    {
    }

    private Bme280Sensor(I2cDevice device, Bme280Settings settings, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        _settings = settings;
        _timeProvider = timeProvider ?? TimeProvider.System;
        var connection = device.ConnectionSettings;
        _busId = connection.BusId;
        _address = connection.DeviceAddress;
    }

    /// <summary>The calibration read at initialization, or <see langword="null"/> before it.</summary>
    internal Bme280Calibration? Calibration => _calibration;

    /// <summary>The raw values of the last measurement.</summary>
    internal Bme280AdcValues LastAdc { get; private set; }

    /// <summary>The compensated values of the last measurement, before conversion to hPa.</summary>
    internal Bme280Compensated LastCompensated { get; private set; }

    /// <summary>
    /// Opens the BME280 at <paramref name="address"/> on I2C bus <paramref name="busId"/> (<c>/dev/i2c-<paramref name="busId"/></c>)
    /// and checks that it answers with a BME280 chip id.
    /// </summary>
    /// <param name="busId">The bus number; 1 on a Raspberry Pi's GPIO header.</param>
    /// <param name="address">0x76 or 0x77.</param>
    /// <param name="options">Oversampling, filter and timeout; <see langword="null"/> for the defaults.</param>
    /// <returns>The sensor, not yet initialized.</returns>
    /// <exception cref="SensorException">The bus is missing or not accessible, nothing answers at the address, or the chip
    /// is not a BME280; the message says what to do.</exception>
    /// <exception cref="ArgumentException">An argument or option is out of range.</exception>
    public static Bme280Sensor Open(int busId, int address, Bme280Options? options = null) =>
        Open(busId, address, options, I2cDevice.Create, timeProvider: null);

    internal static Bme280Sensor Open(
        int busId,
        int address,
        Bme280Options? options,
        Func<I2cConnectionSettings, I2cDevice> createDevice,
        TimeProvider? timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(busId);
        Bme280Settings.ValidateAddress(address, nameof(address));
        ArgumentNullException.ThrowIfNull(createDevice);
        var settings = Bme280Settings.From(options ?? new Bme280Options());

        I2cDevice device;
        try
        {
            device = createDevice(new I2cConnectionSettings(busId, address));
        }
        catch (UnauthorizedAccessException ex)
        {
            throw PermissionDenied(busId, ex);
        }
        catch (IOException ex)
        {
            throw BusOpenFailure(busId, ex);
        }

        try
        {
            // The Linux driver opens the bus file eagerly but talks to the address only on the first transfer, so a
            // missing or mis-addressed sensor shows up here rather than at the first reading.
            byte chipId;
            try
            {
                chipId = ReadChipId(device);
            }
            catch (IOException ex)
            {
                throw NoDevice(busId, address, ex);
            }

            CheckChipId(chipId, busId, address);
            return new Bme280Sensor(device, settings, timeProvider);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks the chip id, resets the chip, reads its calibration and writes the configuration. Reading does this on first
    /// use; call it to find a wiring problem at start-up rather than at the first reading.
    /// </summary>
    /// <param name="cancellationToken">Cancels the waits for the chip.</param>
    /// <returns>A task that completes when the sensor is ready.</returns>
    /// <exception cref="SensorException">The chip could not be reached or is not a BME280; the message says what to do.</exception>
    /// <exception cref="ObjectDisposedException">The sensor has been disposed.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw IoFailure(ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The sensor has been disposed.</exception>
    public async ValueTask<AmbientReading> ReadAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var calibration = await EnsureInitializedAsync(cancellationToken).ConfigureAwait(false);

            WriteRegister(Bme280Registers.CtrlMeas, (byte)(_settings.CtrlMeasOversampling | Bme280Registers.ModeForced));
            var started = _timeProvider.GetTimestamp();

            // Polling straight away would only find the chip busy; the typical time is most of the wait.
            await Task.Delay(_settings.TypicalMeasurementTime, _timeProvider, cancellationToken).ConfigureAwait(false);
            await WaitWhileStatusAsync(Bme280Registers.StatusMeasuring, started, "finish a measurement", cancellationToken)
                .ConfigureAwait(false);

            var timestamp = Instant.FromDateTimeOffset(_timeProvider.GetUtcNow());
            var adc = ReadData();
            var compensated = Bme280Compensation.Compensate(adc, calibration);
            LastAdc = adc;
            LastCompensated = compensated;
            return new AmbientReading(
                timestamp,
                compensated.TemperatureCelsius,
                compensated.HumidityPercent,
                compensated.PressurePascals / 100.0);
        }
        catch (IOException ex)
        {
            throw IoFailure(ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Disposes the <see cref="I2cDevice"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        // The semaphore is left alone: it holds no wait handle, and disposing it would make a read still in flight
        // fail in its finally block instead of with its own error.
        _disposed = true;
        _device.Dispose();
    }

    internal static void CheckChipId(byte chipId, int busId, int address)
    {
        if (chipId == Bme280Registers.ChipIdBme280)
        {
            return;
        }

        if (Bme280Registers.IsBmp280ChipId(chipId))
        {
            throw new SensorException(Invariant(
                $"The sensor at 0x{address:X2} on I2C bus {busId} is a BMP280 (chip id 0x{chipId:X2}), not a BME280: it measures temperature and pressure but has no humidity sensor. Use a BME280 (chip id 0x60); boards sold as \"BME/BMP280\" are often BMP280s."));
        }

        throw new SensorException(Invariant(
            $"The device at 0x{address:X2} on I2C bus {busId} is not a BME280: its chip id (register 0xD0) is 0x{chipId:X2}, expected 0x60. Check with `i2cdetect -y {busId}` which address the sensor answers at (0x76 or 0x77) and that no other device uses this one."));
    }

    private async ValueTask<Bme280Calibration> EnsureInitializedAsync(CancellationToken cancellationToken)
    {
        if (_calibration is not null)
        {
            return _calibration;
        }

        CheckChipId(ReadChipId(_device), _busId, _address);

        // A reset puts the chip in sleep mode with default settings, whatever a previous program left it in; config
        // writes are ignored in normal mode, so this is what makes the filter setting stick.
        WriteRegister(Bme280Registers.Reset, Bme280Registers.ResetCommand);
        var started = _timeProvider.GetTimestamp();
        await Task.Delay(StartupTime, _timeProvider, cancellationToken).ConfigureAwait(false);
        await WaitWhileStatusAsync(Bme280Registers.StatusImUpdate, started, "copy its calibration data after a reset", cancellationToken)
            .ConfigureAwait(false);

        var calibration = ReadCalibration();
        WriteRegister(Bme280Registers.Config, _settings.Config);

        // ctrl_hum only takes effect with the next write to ctrl_meas. Sleep mode here; each read writes forced mode.
        WriteRegister(Bme280Registers.CtrlHum, _settings.CtrlHum);
        WriteRegister(Bme280Registers.CtrlMeas, (byte)(_settings.CtrlMeasOversampling | Bme280Registers.ModeSleep));

        _calibration = calibration;
        return calibration;
    }

    private async ValueTask WaitWhileStatusAsync(byte busyMask, long started, string what, CancellationToken cancellationToken)
    {
        while ((ReadRegister(Bme280Registers.Status) & busyMask) != 0)
        {
            if (_timeProvider.GetElapsedTime(started) >= _settings.MeasurementTimeout)
            {
                throw new SensorException(Invariant(
                    $"BME280 at 0x{_address:X2} did not {what} within {_settings.MeasurementTimeout.TotalMilliseconds:0.###} ms (I2C bus {_busId}): check the sensor's 3.3 V supply and wiring, then power-cycle it; raise {nameof(Bme280Options)}.{nameof(Bme280Options.MeasurementTimeout)} if you use high oversampling."));
            }

            await Task.Delay(PollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private static byte ReadChipId(I2cDevice device)
    {
        Span<byte> chipId = stackalloc byte[1];
        device.WriteRead([Bme280Registers.ChipId], chipId);
        return chipId[0];
    }

    private Bme280Calibration ReadCalibration()
    {
        Span<byte> block88 = stackalloc byte[Bme280Registers.CalibrationTemperaturePressureLength];
        Span<byte> blockE1 = stackalloc byte[Bme280Registers.CalibrationHumidityLength];
        _device.WriteRead([Bme280Registers.CalibrationTemperaturePressure], block88);
        _device.WriteRead([Bme280Registers.CalibrationHumidity], blockE1);
        return Bme280Calibration.Decode(block88, blockE1);
    }

    private Bme280AdcValues ReadData()
    {
        // One burst, so temperature, pressure and humidity come from the same measurement (the chip shadows the data
        // registers for the length of a burst).
        Span<byte> data = stackalloc byte[Bme280Registers.DataLength];
        _device.WriteRead([Bme280Registers.Data], data);
        return Bme280AdcValues.Decode(data);
    }

    private byte ReadRegister(byte register)
    {
        Span<byte> value = stackalloc byte[1];
        _device.WriteRead([register], value);
        return value[0];
    }

    private void WriteRegister(byte register, byte value) => _device.Write([register, value]);

    private SensorException IoFailure(IOException ex) => new(
        Invariant(
            $"I/O error talking to the BME280 at 0x{_address:X2} on I2C bus {_busId} ({ex.Message}). Check the wiring (3.3 V, GND, SDA to GPIO 2, SCL to GPIO 3) and that `i2cdetect -y {_busId}` shows the sensor at 0x{_address:X2}."),
        ex);

    private static SensorException BusOpenFailure(int busId, IOException ex)
    {
        var errno = ErrnoOf(ex.Message);
        if (errno is Errno.EACCES or Errno.EPERM || ex.Message.Contains("Permission denied", StringComparison.OrdinalIgnoreCase))
        {
            return PermissionDenied(busId, ex);
        }

        if (errno is Errno.ENOENT or Errno.ENODEV or Errno.ENXIO
            || ex.Message.Contains("No such file", StringComparison.OrdinalIgnoreCase)
            || !File.Exists(BusPath(busId)))
        {
            return new SensorException(
                Invariant(
                    $"I2C bus {busId} not found ({BusPath(busId)}): enable I2C with `sudo raspi-config nonint do_i2c 0` (or raspi-config → Interface Options → I2C) and reboot."),
                ex);
        }

        return new SensorException(
            Invariant($"Could not open I2C bus {busId} ({BusPath(busId)}): {ex.Message}"),
            ex);
    }

    private static SensorException PermissionDenied(int busId, Exception ex) => new(
        Invariant(
            $"Permission denied on {BusPath(busId)}: add the user to group i2c (`sudo usermod -aG i2c $USER`) and log in again."),
        ex);

    private static SensorException NoDevice(int busId, int address, IOException ex)
    {
        var other = address == 0x76 ? 0x77 : 0x76;
        return new SensorException(
            Invariant(
                $"No device answers at 0x{address:X2} on I2C bus {busId} ({ex.Message}). Check the wiring (3.3 V, GND, SDA to GPIO 2, SCL to GPIO 3), run `i2cdetect -y {busId}` to see which addresses answer, and try address 0x{other:X2} if the sensor shows up there."),
            ex);
    }

    private static string BusPath(int busId) => Invariant($"/dev/i2c-{busId}");

    // System.Device.Gpio reports Linux errors as "Error <errno> ..." (4.2.0: "Error 2 (No such file or directory). Can not
    // open I2C device file '/dev/i2c-250'.").
    private static int? ErrnoOf(string message)
    {
        const string Prefix = "Error ";
        if (!message.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var digits = message.AsSpan(Prefix.Length);
        var length = 0;
        while (length < digits.Length && char.IsAsciiDigit(digits[length]))
        {
            length++;
        }

        return int.TryParse(digits[..length], NumberStyles.None, CultureInfo.InvariantCulture, out var errno) ? errno : null;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static class Errno
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ENXIO = 6;
        public const int EACCES = 13;
        public const int ENODEV = 19;
    }
}
