import Foundation

/// An SVG element with attributes in insertion order and child nodes.
public struct SVGElement: Sendable {
    /// A child of an element: another element or character data.
    public enum Node: Sendable {
        case element(SVGElement)
        case text(String)
    }

    /// The tag name, for example `rect`.
    public let name: String
    /// The attributes, written in this order.
    public private(set) var attributes: [(name: String, value: String)]
    /// The child nodes, written in this order.
    public private(set) var children: [Node]

    /// Creates an element. Attribute values and text are escaped when the
    /// document is rendered, so callers pass them unescaped.
    public init(_ name: String, _ attributes: [(String, String)] = [], children: [Node] = []) {
        self.name = name
        self.attributes = attributes.map { (name: $0.0, value: $0.1) }
        self.children = children
    }

    /// Creates an element that contains only `text`.
    public init(_ name: String, _ attributes: [(String, String)] = [], text: String) {
        self.init(name, attributes, children: [.text(text)])
    }

    /// Appends an attribute.
    public mutating func setAttribute(_ name: String, _ value: String) {
        attributes.append((name: name, value: value))
    }

    /// Appends a child element.
    public mutating func append(_ element: SVGElement) {
        children.append(.element(element))
    }

    /// Appends character data.
    public mutating func append(text: String) {
        children.append(.text(text))
    }

    /// Appends a `<title>` child, which browsers show as a tooltip.
    public mutating func appendTitle(_ text: String) {
        append(SVGElement("title", text: text))
    }

    /// Writes the element and its children as XML into `output`.
    func write(into output: inout String, indentation: Int) {
        let indent = String(repeating: "  ", count: indentation)
        output += indent + "<" + name
        for attribute in attributes {
            output += " \(attribute.name)=\"\(XMLEscaping.escapeAttribute(attribute.value))\""
        }
        if children.isEmpty {
            output += "/>\n"
            return
        }
        // Elements holding text stay on one line, so no whitespace is added
        // to the text a browser displays.
        let containsOnlyText = children.allSatisfy {
            if case .text = $0 { true } else { false }
        }
        if containsOnlyText {
            output += ">"
            for case .text(let text) in children {
                output += XMLEscaping.escapeText(text)
            }
            output += "</\(name)>\n"
            return
        }
        output += ">\n"
        for child in children {
            switch child {
            case .element(let element):
                element.write(into: &output, indentation: indentation + 1)
            case .text(let text):
                output += indent + "  " + XMLEscaping.escapeText(text) + "\n"
            }
        }
        output += indent + "</\(name)>\n"
    }
}

/// A standalone SVG document of a fixed size in CSS pixels.
public struct SVGDocument: Sendable {
    /// The width in CSS pixels.
    public let width: Double
    /// The height in CSS pixels.
    public let height: Double
    /// The root `<svg>` element.
    public private(set) var root: SVGElement

    /// Creates an empty document with a white background.
    public init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        root = SVGElement("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("width", formatCoordinate(width)),
            ("height", formatCoordinate(height)),
            ("viewBox", "0 0 \(formatCoordinate(width)) \(formatCoordinate(height))"),
            ("font-family", "DejaVu Sans, Helvetica, Arial, sans-serif"),
        ])
        root.appendTitle(title)
        root.append(SVGElement("rect", [
            ("width", "100%"), ("height", "100%"), ("fill", "white"),
        ]))
    }

    /// Appends an element to the root.
    public mutating func append(_ element: SVGElement) {
        root.append(element)
    }

    /// The document as UTF-8 XML text with an XML declaration.
    public func render() -> String {
        var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        root.write(into: &output, indentation: 0)
        return output
    }
}

/// Formats a coordinate with at most two decimals and no trailing zeros.
func formatCoordinate(_ value: Double) -> String {
    formatNumber(value, maximumDecimals: 2)
}

/// Formats `value` with at most `maximumDecimals` decimals, without
/// trailing zeros, and without exponent notation for ordinary magnitudes.
func formatNumber(_ value: Double, maximumDecimals: Int) -> String {
    var text = String(format: "%.\(maximumDecimals)f", value)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text == "-0" ? "0" : text
}
