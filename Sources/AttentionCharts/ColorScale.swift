import Foundation

/// An sRGB colour with 8-bit channels.
public struct RGBColor: Equatable, Sendable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Creates a colour from `0xRRGGBB`.
    public init(hex: UInt32) {
        self.init(
            red: UInt8((hex >> 16) & 0xFF), green: UInt8((hex >> 8) & 0xFF), blue: UInt8(hex & 0xFF))
    }

    /// The colour as `#rrggbb`.
    public var hexString: String {
        let digits = Array("0123456789abcdef")
        var text = "#"
        for channel in [red, green, blue] {
            text.append(digits[Int(channel >> 4)])
            text.append(digits[Int(channel & 0xF)])
        }
        return text
    }

    /// The relative luminance from the sRGB channels, in 0...1, used to pick
    /// a readable text colour on top of a cell.
    var luminance: Double {
        func linear(_ channel: UInt8) -> Double {
            let value = Double(channel) / 255
            return value <= 0.04045 ? value / 12.92 : pow((value + 0.055) / 1.055, 2.4)
        }
        return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    }
}

/// A sequential colour scale: dark violet for the low end through blue and
/// green to yellow for the high end.
///
/// Lightness rises monotonically along the scale, so larger values always
/// look lighter, also in greyscale and for the common forms of colour
/// blindness. The ramp is a piecewise-linear interpolation in sRGB between
/// nine anchor colours sampled from the viridis colour map.
public struct ColorScale: Sendable {
    /// The anchor colours, evenly spaced from the low to the high end.
    public static let viridisAnchors: [RGBColor] = [
        RGBColor(hex: 0x440154), RGBColor(hex: 0x472D7B), RGBColor(hex: 0x3B528B),
        RGBColor(hex: 0x2C728E), RGBColor(hex: 0x21918C), RGBColor(hex: 0x28AE80),
        RGBColor(hex: 0x5EC962), RGBColor(hex: 0xADDC30), RGBColor(hex: 0xFDE725),
    ]

    /// The value drawn with the first anchor colour.
    public let lowerBound: Double
    /// The value drawn with the last anchor colour.
    public let upperBound: Double
    /// The colours the scale interpolates between.
    public let anchors: [RGBColor]

    /// Creates a scale over `lowerBound...upperBound`. An empty range is
    /// widened by one unit upward so every value still maps to a colour.
    public init(lowerBound: Double, upperBound: Double, anchors: [RGBColor] = ColorScale.viridisAnchors) {
        precondition(anchors.count >= 2, "a colour scale needs at least two anchors")
        self.lowerBound = lowerBound
        self.upperBound = upperBound > lowerBound ? upperBound : lowerBound + 1
        self.anchors = anchors
    }

    /// The position of `value` on the scale, clamped to 0...1.
    public func position(of value: Double) -> Double {
        let fraction = (value - lowerBound) / (upperBound - lowerBound)
        return min(max(fraction, 0), 1)
    }

    /// The colour of `value`; values outside the range take the end colours.
    public func color(for value: Double) -> RGBColor {
        let scaled = position(of: value) * Double(anchors.count - 1)
        let index = min(Int(scaled), anchors.count - 2)
        let weight = scaled - Double(index)
        let low = anchors[index]
        let high = anchors[index + 1]
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * weight).rounded())
        }
        return RGBColor(
            red: mix(low.red, high.red), green: mix(low.green, high.green),
            blue: mix(low.blue, high.blue))
    }
}
