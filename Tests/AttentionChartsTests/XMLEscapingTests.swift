import Foundation
import FoundationXML
import Testing

@testable import AttentionCharts

@Test(arguments: [
    ("a<b", "a&lt;b"),
    ("x & y", "x &amp; y"),
    ("1 > 0", "1 &gt; 0"),
    ("say \"hi\"", "say \"hi\""),
    ("café ☕ 東京", "café ☕ 東京"),
    ("bell\u{07}", "bell\u{FFFD}"),
])
func textEscaping(input: String, expected: String) {
    #expect(XMLEscaping.escapeText(input) == expected)
}

@Test(arguments: [
    ("say \"hi\"", "say &quot;hi&quot;"),
    ("it's", "it&apos;s"),
    ("tab\there", "tab&#9;here"),
    ("line\nbreak", "line&#10;break"),
    ("<&>", "&lt;&amp;&gt;"),
    ("nul\u{0}", "nul\u{FFFD}"),
])
func attributeEscaping(input: String, expected: String) {
    #expect(XMLEscaping.escapeAttribute(input) == expected)
}

@Test func escapedValuesRoundTrip() throws {
    let awkward = "<tag> & \"double\" 'single' naïve 😀\tend"
    var document = SVGDocument(width: 10, height: 10, title: awkward)
    document.append(SVGElement("text", [("data-label", awkward)], text: awkward))
    let parsed = try XMLDocument(xmlString: document.render(), options: [])
    let text = try #require(parsed.rootElement()?.elements(forName: "text").first)
    #expect(text.stringValue == awkward)
    #expect(text.value(of: "data-label") == awkward)
    #expect(parsed.rootElement()?.elements(forName: "title").first?.stringValue == awkward)
}

@Test func controlCharactersReplaced() throws {
    var document = SVGDocument(width: 10, height: 10, title: "t")
    document.append(SVGElement("text", [("data-label", "a\u{1B}b")], text: "c\u{1}d\u{FFFF}"))
    let parsed = try XMLDocument(xmlString: document.render(), options: [])
    let text = try #require(parsed.rootElement()?.elements(forName: "text").first)
    #expect(text.stringValue == "c\u{FFFD}d\u{FFFD}")
    #expect(text.value(of: "data-label") == "a\u{FFFD}b")
}

@Test(arguments: [(0.0, "0"), (1.5, "1.5"), (2.25, "2.25"), (3.333, "3.33"), (-0.001, "0"), (120.0, "120")])
func coordinateFormat(value: Double, expected: String) {
    #expect(formatCoordinate(value) == expected)
}
