import Testing

@testable import AttentionCharts

@Test func colorScaleEnds() {
    let scale = ColorScale(lowerBound: 0, upperBound: 2)
    #expect(scale.color(for: 0) == ColorScale.viridisAnchors.first)
    #expect(scale.color(for: 2) == ColorScale.viridisAnchors.last)
    #expect(scale.color(for: -5) == ColorScale.viridisAnchors.first)
    #expect(scale.color(for: 7) == ColorScale.viridisAnchors.last)
}

@Test func colorScaleLightensMonotonically() {
    let scale = ColorScale(lowerBound: 0, upperBound: 1)
    let luminances = (0...100).map { scale.color(for: Double($0) / 100).luminance }
    for index in 1..<luminances.count {
        #expect(luminances[index] >= luminances[index - 1] - 1e-3, "step \(index)")
    }
    #expect(luminances.last! > luminances.first! * 10)
}

@Test func colorScaleEmptyRange() {
    let scale = ColorScale(lowerBound: 0.5, upperBound: 0.5)
    #expect(scale.upperBound == 1.5)
    #expect(scale.color(for: 0.5) == ColorScale.viridisAnchors.first)
}

@Test func hexString() {
    #expect(RGBColor(hex: 0x0A_FF_01).hexString == "#0aff01")
}
