namespace AmbientMqtt.Sensors;

/// <summary>The compensated result of one measurement, with the t_fine that carried temperature into the other two.</summary>
internal readonly record struct Bme280Compensated(int TFine, double TemperatureCelsius, double PressurePascals, double HumidityPercent);
