using System.Device.I2c;
using AmbientMqtt.Sensors;
using Microsoft.Extensions.Time.Testing;
using NodaTime;

namespace AmbientMqtt.Tests.Sensors;

public sealed class Bme280SensorTests
{
    // README "Recommended tolerances", driver implementing the double formulas.
    private const double TemperatureTolerance = 1e-6;
    private const double PressureTolerancePa = 0.05;
    private const double HumidityTolerance = 1e-4;

    private static readonly DateTimeOffset Start = new(2024, 10, 7, 23, 54, 50, TimeSpan.Zero);

    public static TheoryData<string> VectorIds => new(Bme280Vectors.All.Keys);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Vectors_File_HoldsAllSixteen()
    {
        Bme280Vectors.All.Should().HaveCount(16);
        Bme280Vectors.All.Keys.Should().Contain(["synthetic_signed_humidity_coeffs", "temperature_above_range_clamped", "pressure_below_range_clamped"]);
    }

    [Theory]
    [MemberData(nameof(VectorIds))]
    public async Task ReadAsync_ReferenceVector_DecodesCoefficientsAndAdc(string id)
    {
        var vector = Bme280Vectors.Get(id);
        using var sensor = new Bme280Sensor(vector.CreateDevice());

        await sensor.ReadAsync(Ct);

        sensor.Calibration.Should().Be(vector.Coefficients);
        sensor.LastAdc.Should().Be(vector.Adc);
    }

    [Theory]
    [MemberData(nameof(VectorIds))]
    public async Task ReadAsync_ReferenceVector_MatchesSensorApiDouble(string id)
    {
        var vector = Bme280Vectors.Get(id);
        var expected = vector.SensorApiDouble;
        using var sensor = new Bme280Sensor(vector.CreateDevice());

        var reading = await sensor.ReadAsync(Ct);

        sensor.LastCompensated.TFine.Should().Be(expected.TFine);
        reading.Temperature.Should().BeApproximately(expected.TemperatureC, TemperatureTolerance);
        (reading.Pressure * 100).Should().BeApproximately(expected.PressurePa, PressureTolerancePa);
        reading.Humidity.Should().BeApproximately(expected.HumidityRh, HumidityTolerance);
    }

    [Fact]
    public async Task ReadAsync_SyntheticSignedHumidityCoefficients_IncludesDigH3Factor()
    {
        var vector = Bme280Vectors.Get("synthetic_signed_humidity_coeffs");
        using var sensor = new Bme280Sensor(vector.CreateDevice());

        var reading = await sensor.ReadAsync(Ct);

        reading.Humidity.Should().BeApproximately(45.0025, 1e-4);

        // The datasheet formula, which lacks the extra dig_H3 factor, gives 44.58 here.
        reading.Humidity.Should().NotBeApproximately(vector.DatasheetDouble.HumidityRh, 0.1);
    }

    [Theory]
    [InlineData("temperature_above_range_clamped", 85.0, 460800)]
    [InlineData("near_min_temperature", -38.49977987201419, -197118)]
    public async Task ReadAsync_TemperatureVector_ClampsTemperatureButNotTFine(string id, double temperature, int tFine)
    {
        using var sensor = new Bme280Sensor(Bme280Vectors.Get(id).CreateDevice());

        var reading = await sensor.ReadAsync(Ct);

        reading.Temperature.Should().BeApproximately(temperature, TemperatureTolerance);
        sensor.LastCompensated.TFine.Should().Be(tFine);
    }

    [Theory]
    [InlineData(0x56)]
    [InlineData(0x57)]
    [InlineData(0x58)]
    public async Task InitializeAsync_Bmp280ChipId_ThrowsSayingNoHumidity(byte chipId)
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        device[0xD0] = chipId;
        using var sensor = new Bme280Sensor(device);

        var act = () => sensor.InitializeAsync(Ct);

        var thrown = await act.Should().ThrowAsync<SensorException>();
        thrown.Which.Message.Should().Contain("BMP280").And.Contain("no humidity").And.Contain($"0x{chipId:X2}").And.Contain("0x76");
        device.Writes.Should().BeEmpty("nothing is configured on a chip that is not a BME280");
    }

    [Fact]
    public async Task ReadAsync_UnknownChipId_ThrowsNamingIdAndAddress()
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice(busId: 3, address: 0x77);
        device[0xD0] = 0x12;
        using var sensor = new Bme280Sensor(device);

        var act = async () => await sensor.ReadAsync(Ct);

        var thrown = await act.Should().ThrowAsync<SensorException>();
        thrown.Which.Message.Should().Contain("0x12").And.Contain("0x77").And.Contain("bus 3").And.Contain("expected 0x60");
    }

    [Fact]
    public async Task ReadAsync_DefaultOptions_ResetsThenConfiguresHumidityBeforeForcedMeasurement()
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        using var sensor = new Bme280Sensor(device);

        await sensor.ReadAsync(Ct);

        // Reset, filter off, ctrl_hum osrs_h ×1, ctrl_meas osrs_t ×1 osrs_p ×1 sleep (latches ctrl_hum), then
        // ctrl_meas again in forced mode to take the measurement.
        device.Writes.Should().Equal(
            (0xE0, 0xB6),
            (0xF5, 0x00),
            (0xF2, 0x01),
            (0xF4, 0b001_001_00),
            (0xF4, 0b001_001_01));
        device.MeasurementsTriggered.Should().Be(1);
    }

    [Theory]
    [InlineData(Bme280Oversampling.X2, Bme280Oversampling.X16, Bme280Oversampling.X4, Bme280Filter.X8, 0x03, 0b010_101_01, 0b000_011_00)]
    [InlineData(Bme280Oversampling.X16, Bme280Oversampling.X1, Bme280Oversampling.X8, Bme280Filter.X16, 0x04, 0b101_001_01, 0b000_100_00)]
    [InlineData(Bme280Oversampling.X1, Bme280Oversampling.X4, Bme280Oversampling.X16, Bme280Filter.X2, 0x05, 0b001_011_01, 0b000_001_00)]
    public async Task ReadAsync_ConfiguredOptions_WritesOversamplingAndFilterBits(
        Bme280Oversampling temperature,
        Bme280Oversampling pressure,
        Bme280Oversampling humidity,
        Bme280Filter filter,
        byte ctrlHum,
        byte ctrlMeasForced,
        byte config)
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        var options = new Bme280Options
        {
            TemperatureOversampling = temperature,
            PressureOversampling = pressure,
            HumidityOversampling = humidity,
            Filter = filter,
        };
        using var sensor = new Bme280Sensor(device, options);

        await sensor.ReadAsync(Ct);
        await sensor.ReadAsync(Ct);

        var writes = device.Writes.ToList();
        writes.Should().ContainSingle(w => w.Register == 0xF5).Which.Value.Should().Be(config);
        writes.Should().ContainSingle(w => w.Register == 0xF2).Which.Value.Should().Be(ctrlHum);
        writes.FindIndex(w => w.Register == 0xF2).Should().BeLessThan(writes.FindIndex(w => w.Register == 0xF4));
        writes.Where(w => w.Register == 0xF4 && (w.Value & 0b11) != 0).Select(w => w.Value)
            .Should().Equal(ctrlMeasForced, ctrlMeasForced);
        device.MeasurementsTriggered.Should().Be(2);
    }

    [Fact]
    public async Task ReadAsync_StatusBusyForThreePolls_PollsUntilReadyAndReturnsReading()
    {
        var vector = Bme280Vectors.Get("datasheet_example");
        var device = vector.CreateDevice();
        using var sensor = new Bme280Sensor(device);
        await sensor.InitializeAsync(Ct);
        device.MeasuringPolls = 3;
        var statusReadsBefore = device.StatusReads;

        var reading = await sensor.ReadAsync(Ct);

        device.StatusReads.Should().Be(statusReadsBefore + 4, "three busy polls, then the one that finds it ready");
        reading.Temperature.Should().BeApproximately(vector.SensorApiDouble.TemperatureC, TemperatureTolerance);
        reading.Humidity.Should().BeApproximately(vector.SensorApiDouble.HumidityRh, HumidityTolerance);
    }

    [Fact]
    public async Task ReadAsync_StatusStuckBusy_ThrowsAfterMeasurementTimeout()
    {
        var time = new FakeTimeProvider(Start);
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        using var sensor = new Bme280Sensor(device, timeProvider: time);
        await RunWithFakeTimeAsync(time, sensor.InitializeAsync(Ct));
        device.MeasuringPolls = int.MaxValue;
        var readStarted = time.GetUtcNow();

        var read = sensor.ReadAsync(Ct).AsTask();
        await AdvanceAsync(time, read, TimeSpan.FromMilliseconds(900));
        read.IsCompleted.Should().BeFalse("the timeout is one second");

        var act = () => RunWithFakeTimeAsync(time, read);

        var thrown = await act.Should().ThrowAsync<SensorException>();
        thrown.Which.Message.Should().StartWith("BME280 at 0x76 did not finish a measurement within 1000 ms");
        (time.GetUtcNow() - readStarted).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1));
        device.StatusReads.Should().BeGreaterThan(100, "the sensor keeps polling until the timeout");
    }

    [Fact]
    public async Task ReadAsync_ShortTimeoutOnRealClock_ThrowsSensorException()
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        device.MeasuringPolls = int.MaxValue;
        using var sensor = new Bme280Sensor(device, new Bme280Options { MeasurementTimeout = TimeSpan.FromMilliseconds(30) });

        var act = async () => await sensor.ReadAsync(Ct);

        (await act.Should().ThrowAsync<SensorException>())
            .Which.Message.Should().StartWith("BME280 at 0x76 did not finish a measurement within 30 ms");
    }

    [Fact]
    public async Task ReadAsync_FakeClock_StampsReadingWithItsTime()
    {
        var time = new FakeTimeProvider(Start);
        using var sensor = new Bme280Sensor(Bme280Vectors.Get("datasheet_example").CreateDevice(), timeProvider: time);

        var reading = await RunWithFakeTimeAsync(time, sensor.ReadAsync(Ct).AsTask());

        reading.Timestamp.Should().BeGreaterThan(Instant.FromDateTimeOffset(Start), "the reading waits for the measurement");
        reading.Timestamp.Should().BeLessThanOrEqualTo(Instant.FromDateTimeOffset(time.GetUtcNow()));
        reading.Identifier.Should().BeNull();
    }

    [Fact]
    public async Task ReadAsync_DeviceThrowsIOException_ThrowsSensorExceptionWithAdvice()
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        using var sensor = new Bme280Sensor(device);
        await sensor.InitializeAsync(Ct);
        var cause = new IOException("Error 121 performing I2C data transfer.");
        device.Failure = cause;

        var act = async () => await sensor.ReadAsync(Ct);

        var thrown = await act.Should().ThrowAsync<SensorException>();
        thrown.Which.InnerException.Should().BeSameAs(cause);
        thrown.Which.Message.Should().Contain("0x76").And.Contain("bus 1").And.Contain("Error 121").And.Contain("i2cdetect -y 1").And.Contain("wiring");
    }

    [Fact]
    public async Task ReadAsync_AfterFailedInitialization_InitializesAgainWhenDeviceAnswers()
    {
        var vector = Bme280Vectors.Get("cm_published_sample");
        var device = vector.CreateDevice();
        device.Failure = new IOException("Error 121 performing I2C data transfer.");
        using var sensor = new Bme280Sensor(device);
        var first = async () => await sensor.ReadAsync(Ct);
        await first.Should().ThrowAsync<SensorException>();

        device.Failure = null;
        var reading = await sensor.ReadAsync(Ct);

        reading.Temperature.Should().BeApproximately(vector.SensorApiDouble.TemperatureC, TemperatureTolerance);
    }

    [Fact]
    public async Task ReadAsync_TwoReads_ReadsCalibrationOnce()
    {
        var device = Bme280Vectors.Get("hot_dry").CreateDevice();
        using var sensor = new Bme280Sensor(device);

        var first = await sensor.ReadAsync(Ct);
        var second = await sensor.ReadAsync(Ct);

        device.Writes.Count(w => w.Register == 0xE0).Should().Be(1);
        device.MeasurementsTriggered.Should().Be(2);
        second.Temperature.Should().Be(first.Temperature);
    }

    [Fact]
    public void Open_MissingBus_ThrowsSensorExceptionSayingToEnableI2c()
    {
        // This machine has no /dev/i2c-250: System.Device.Gpio opens the bus file in I2cDevice.Create and throws
        // IOException "Error 2 (No such file or directory). Can not open I2C device file '/dev/i2c-250'."
        var act = () => Bme280Sensor.Open(250, 0x76);

        var thrown = act.Should().Throw<SensorException>();
        thrown.Which.Message.Should().Contain("I2C bus 250 not found (/dev/i2c-250)")
            .And.Contain("enable I2C")
            .And.Contain("sudo raspi-config nonint do_i2c 0")
            .And.Contain("reboot");
        thrown.Which.InnerException.Should().BeOfType<IOException>();
    }

    public static TheoryData<Exception> PermissionFailures =>
    [
        new UnauthorizedAccessException("Access to the path '/dev/i2c-1' is denied."),
        new IOException("Error 13 (Permission denied). Can not open I2C device file '/dev/i2c-1'."),
        new IOException("Error 13. Can not open I2C device file '/dev/i2c-1'."),
    ];

    [Theory]
    [MemberData(nameof(PermissionFailures))]
    public void Open_PermissionDenied_ThrowsSensorExceptionSayingToJoinGroupI2c(Exception failure)
    {
        var act = () => Bme280Sensor.Open(1, 0x76, options: null, _ => throw failure, timeProvider: null);

        var thrown = act.Should().Throw<SensorException>();
        thrown.Which.Message.Should().Contain("ermission denied on /dev/i2c-1")
            .And.Contain("sudo usermod -aG i2c $USER")
            .And.Contain("log in again");
        thrown.Which.InnerException.Should().BeSameAs(failure);
    }

    [Theory]
    [InlineData(0x76, "0x77")]
    [InlineData(0x77, "0x76")]
    public void Open_NoDeviceAtAddress_ThrowsSuggestingI2cdetectAndOtherAddress(int address, string otherAddress)
    {
        SimulatedI2cDevice? device = null;
        var act = () => Bme280Sensor.Open(
            1,
            address,
            options: null,
            settings =>
            {
                device = new SimulatedI2cDevice(settings.BusId, settings.DeviceAddress)
                {
                    Failure = new IOException("Error 121 (Remote I/O error) performing I2C data transfer."),
                };
                return device;
            },
            timeProvider: null);

        var thrown = act.Should().Throw<SensorException>();
        thrown.Which.Message.Should().Contain($"0x{address:X2} on I2C bus 1")
            .And.Contain("i2cdetect -y 1")
            .And.Contain(otherAddress);
        device!.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public void Open_Bmp280AtAddress_ThrowsAndDisposesDevice()
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        device[0xD0] = 0x58;

        var act = () => Bme280Sensor.Open(1, 0x76, options: null, _ => device, timeProvider: null);

        act.Should().Throw<SensorException>().WithMessage("*BMP280*humidity*");
        device.IsDisposed.Should().BeTrue();
    }

    [Fact]
    public async Task Open_Bme280AtAddress_ReturnsSensorOnThatBusAndAddress()
    {
        var vector = Bme280Vectors.Get("humid_tropical");
        I2cConnectionSettings? requested = null;

        using var sensor = Bme280Sensor.Open(
            1,
            0x77,
            options: null,
            settings =>
            {
                requested = settings;
                return vector.CreateDevice(settings.BusId, settings.DeviceAddress);
            },
            timeProvider: null);
        var reading = await sensor.ReadAsync(Ct);

        requested!.BusId.Should().Be(1);
        requested.DeviceAddress.Should().Be(0x77);
        reading.Humidity.Should().BeApproximately(vector.SensorApiDouble.HumidityRh, HumidityTolerance);
    }

    [Theory]
    [InlineData(0x75)]
    [InlineData(0x78)]
    [InlineData(0)]
    public void Open_AddressOtherThan76Or77_ThrowsArgumentOutOfRange(int address)
    {
        var act = () => Bme280Sensor.Open(1, address, options: null, _ => throw new InvalidOperationException("not reached"), timeProvider: null);

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("address");
    }

    [Fact]
    public void Constructor_SkippedHumidity_ThrowsArgumentException()
    {
        var options = new Bme280Options { HumidityOversampling = Bme280Oversampling.Skip };

        var act = () => new Bme280Sensor(new SimulatedI2cDevice(), options);

        act.Should().Throw<ArgumentException>().WithMessage("*humidity*Skip*");
    }

    [Fact]
    public void Constructor_NonPositiveTimeout_ThrowsArgumentException()
    {
        var options = new Bme280Options { MeasurementTimeout = TimeSpan.Zero };

        var act = () => new Bme280Sensor(new SimulatedI2cDevice(), options);

        act.Should().Throw<ArgumentException>().WithMessage("*MeasurementTimeout*");
    }

    [Fact]
    public void Options_Defaults_MatchTutorial()
    {
        var options = new Bme280Options();

        options.Address.Should().Be(0x76);
        options.TemperatureOversampling.Should().Be(Bme280Oversampling.X1);
        options.PressureOversampling.Should().Be(Bme280Oversampling.X1);
        options.HumidityOversampling.Should().Be(Bme280Oversampling.X1);
        options.Filter.Should().Be(Bme280Filter.Off);
        options.MeasurementTimeout.Should().Be(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Dispose_Sensor_DisposesDeviceAndRejectsReads()
    {
        var device = Bme280Vectors.Get("datasheet_example").CreateDevice();
        var sensor = new Bme280Sensor(device);

        sensor.Dispose();
        var act = async () => await sensor.ReadAsync(Ct);

        device.IsDisposed.Should().BeTrue();
        await act.Should().ThrowAsync<ObjectDisposedException>();
    }

    // Moves the fake clock on in small steps until the task completes, so the sensor's delays and polls run.
    private static async Task<T> RunWithFakeTimeAsync<T>(FakeTimeProvider time, Task<T> task)
    {
        await AdvanceAsync(time, task, TimeSpan.FromSeconds(10));
        task.IsCompleted.Should().BeTrue("the operation should finish within ten seconds of fake time");
        return await task;
    }

    private static async Task RunWithFakeTimeAsync(FakeTimeProvider time, Task task)
    {
        await AdvanceAsync(time, task, TimeSpan.FromSeconds(10));
        task.IsCompleted.Should().BeTrue("the operation should finish within ten seconds of fake time");
        await task;
    }

    private static async Task AdvanceAsync(FakeTimeProvider time, Task task, TimeSpan limit)
    {
        var step = TimeSpan.FromMilliseconds(1);
        for (var elapsed = TimeSpan.Zero; !task.IsCompleted && elapsed < limit; elapsed += step)
        {
            time.Advance(step);
            await Task.Yield();
        }
    }
}
