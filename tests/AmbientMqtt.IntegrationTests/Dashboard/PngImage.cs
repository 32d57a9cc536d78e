using System.Buffers.Binary;
using System.IO.Compression;

namespace AmbientMqtt.IntegrationTests.Dashboard;

/// <summary>
/// Decodes the PNG screenshots Chromium takes (8-bit RGB or RGBA, not interlaced) into pixels, so a test can look at
/// what a person would see: whether a panel has anything drawn in it, in which colours.
/// </summary>
internal sealed class PngImage
{
    private readonly byte[] _rgba;

    private PngImage(int width, int height, byte[] rgba)
    {
        Width = width;
        Height = height;
        _rgba = rgba;
    }

    public int Width { get; }

    public int Height { get; }

    public static PngImage Decode(byte[] png)
    {
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }))
        {
            throw new InvalidDataException("not a PNG file");
        }

        int width = 0, height = 0, colorType = 0;
        using var compressed = new MemoryStream();
        for (var offset = 8; offset < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var type = System.Text.Encoding.ASCII.GetString(png, offset + 4, 4);
            var data = png.AsSpan(offset + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    colorType = data[9];
                    if (data[8] != 8 || (colorType != 2 && colorType != 6) || data[12] != 0)
                    {
                        throw new InvalidDataException($"PNG of bit depth {data[8]}, colour type {colorType}, interlace {data[12]} is not decoded here");
                    }

                    break;
                case "IDAT":
                    compressed.Write(data);
                    break;
            }

            offset += 12 + length;
        }

        var channels = colorType == 6 ? 4 : 3;
        var stride = width * channels;
        compressed.Position = 0;
        using var inflate = new ZLibStream(compressed, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        inflate.CopyTo(raw);
        var bytes = raw.ToArray();
        var rgba = new byte[width * height * 4];
        var previous = new byte[stride];
        var line = new byte[stride];
        for (var y = 0; y < height; y++)
        {
            var filter = bytes[y * (stride + 1)];
            Array.Copy(bytes, (y * (stride + 1)) + 1, line, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int a = i >= channels ? line[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                line[i] = (byte)(line[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG filter {filter}"),
                });
            }

            for (var x = 0; x < width; x++)
            {
                var target = ((y * width) + x) * 4;
                rgba[target] = line[x * channels];
                rgba[target + 1] = line[(x * channels) + 1];
                rgba[target + 2] = line[(x * channels) + 2];
                rgba[target + 3] = channels == 4 ? line[(x * channels) + 3] : (byte)255;
            }

            (previous, line) = (line, previous);
        }

        return new PngImage(width, height, rgba);
    }

    /// <summary>The colour at a pixel.</summary>
    public (byte R, byte G, byte B) At(int x, int y)
    {
        var i = ((y * Width) + x) * 4;
        return (_rgba[i], _rgba[i + 1], _rgba[i + 2]);
    }

    /// <summary>Counts the pixels of a rectangle within <paramref name="tolerance"/> (per channel) of a colour.</summary>
    public int Count(int left, int top, int width, int height, (byte R, byte G, byte B) color, int tolerance)
    {
        var count = 0;
        for (var y = Math.Max(0, top); y < Math.Min(Height, top + height); y++)
        {
            for (var x = Math.Max(0, left); x < Math.Min(Width, left + width); x++)
            {
                var (r, g, b) = At(x, y);
                if (Math.Abs(r - color.R) <= tolerance && Math.Abs(g - color.G) <= tolerance && Math.Abs(b - color.B) <= tolerance)
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>Counts the distinct colours of a rectangle (a blank one has one or two).</summary>
    public int DistinctColors(int left, int top, int width, int height)
    {
        var colors = new HashSet<int>();
        for (var y = Math.Max(0, top); y < Math.Min(Height, top + height); y++)
        {
            for (var x = Math.Max(0, left); x < Math.Min(Width, left + width); x++)
            {
                var (r, g, b) = At(x, y);
                colors.Add((r << 16) | (g << 8) | b);
            }
        }

        return colors.Count;
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
