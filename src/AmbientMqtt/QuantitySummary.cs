namespace AmbientMqtt;

/// <summary>Minimum, mean and maximum of one quantity over the rows of a bucket.</summary>
/// <param name="Min">The smallest value.</param>
/// <param name="Mean">The arithmetic mean of the values.</param>
/// <param name="Max">The largest value.</param>
public readonly record struct QuantitySummary(double Min, double Mean, double Max);
