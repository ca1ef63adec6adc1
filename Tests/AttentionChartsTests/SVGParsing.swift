import Foundation
import FoundationXML
import Testing

@testable import AttentionCharts

/// A rendered document parsed back with libxml2, so malformed XML fails the
/// test that produced it.
struct ParsedSVG {
    let document: XMLDocument
    let text: String

    init(_ svg: SVGDocument) throws {
        text = svg.render()
        document = try XMLDocument(xmlString: text, options: [])
    }

    /// The elements whose `class` attribute is `className`.
    func elements(withClass className: String) throws -> [XMLElement] {
        try document.nodes(forXPath: "//*[@class='\(className)']").compactMap { $0 as? XMLElement }
    }

    /// The text of the elements whose `class` attribute is `className`.
    func texts(withClass className: String) throws -> [String] {
        try elements(withClass: className).map { $0.stringValue ?? "" }
    }

    /// The `<title>` texts of the elements whose class is `className`.
    func titles(withClass className: String) throws -> [String] {
        try elements(withClass: className).map { element in
            element.elements(forName: "title").first?.stringValue ?? ""
        }
    }
}

/// Expects `body` to throw a `ChartError` of `kind` whose message contains
/// every string in `fragments`.
func expectChartError(
    _ kind: ChartError.Kind, mentioning fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected ChartError.\(kind), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ChartError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.description.contains(fragment), "missing '\(fragment)' in: \(error)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected ChartError, got \(error)", sourceLocation: sourceLocation)
    }
}

extension XMLElement {
    /// The value of the attribute `name`, looked up by scanning the
    /// attributes, because `attribute(forName:)` in swift-corelibs-foundation
    /// returned `nil` for unprefixed attributes in these documents.
    func value(of name: String) -> String? {
        attributes?.first { $0.name == name }?.stringValue
    }
}
