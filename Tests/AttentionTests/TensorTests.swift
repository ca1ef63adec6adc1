import Testing
@testable import Attention

@Suite struct TensorTests {
    static func counting(_ shape: [Int]) throws -> Tensor {
        try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map(Float.init))
    }

    @Test("Contiguous strides are row-major")
    func contiguousStrides() throws {
        let tensor = try Self.counting([2, 3, 4])
        #expect(tensor.strides == [12, 4, 1])
        #expect(tensor.isContiguous)
        #expect(tensor[1, 2, 3] == 23)
        #expect(try tensor.element(at: [0, 1, 2]) == 6)
    }

    @Test("Permute swaps strides without copying")
    func permute() throws {
        let blhd = try Self.counting([2, 3, 4, 5])
        let bhld = try blhd.permuted([0, 2, 1, 3])
        #expect(bhld.shape == [2, 4, 3, 5])
        #expect(bhld.strides == [60, 5, 20, 1])
        #expect(bhld.storage === blhd.storage)
        #expect(!bhld.isContiguous)
        for (b, h, l, d) in [(0, 0, 0, 0), (1, 3, 2, 4), (1, 2, 0, 3)] {
            #expect(bhld[b, h, l, d] == blhd[b, l, h, d])
        }
        #expect(try blhd.transposed(1, 2).strides == bhld.strides)
        #expect(throws: AttentionError.self) { try blhd.permuted([0, 1, 1, 3]) }
        #expect(throws: AttentionError.self) { try blhd.permuted([0, 1, 2]) }
        #expect(throws: AttentionError.self) { try blhd.transposed(0, 4) }
    }

    @Test("Slices and selections share storage")
    func sliceAndSelect() throws {
        let tensor = try Self.counting([4, 5])
        let rows = try tensor.sliced(axis: 0, range: 1..<3)
        #expect(rows.shape == [2, 5])
        #expect(rows.scalars == (5..<15).map(Float.init))
        let column = try tensor.selecting(axis: 1, index: 2)
        #expect(column.shape == [4])
        #expect(column.scalars == [2, 7, 12, 17])
        column[1] = -1
        #expect(tensor[1, 2] == -1, "writes go through to the shared storage")
        #expect(try tensor.sliced(axis: 1, range: 5..<5).isEmpty)
        #expect(throws: AttentionError.self) { try tensor.sliced(axis: 0, range: 3..<5) }
        #expect(throws: AttentionError.self) { try tensor.selecting(axis: 1, index: 5) }
        #expect(throws: AttentionError.self) { try tensor.selecting(axis: 2, index: 0) }
    }

    @Test("Broadcast uses stride 0")
    func broadcast() throws {
        let row = try Self.counting([1, 3])
        let wide = try row.broadcast(to: [2, 4, 3])
        #expect(wide.strides == [0, 0, 1])
        #expect(wide.scalars == Array(repeating: [0, 1, 2], count: 8).flatMap { $0 })
        let error = #expect(throws: AttentionError.self) { try row.broadcast(to: [2, 4], argument: "mask") }
        #expect(error?.argument == "mask")
        #expect(throws: AttentionError.self) { try row.broadcast(to: [3]) }
        #expect(try row.unsqueezed(axis: 0).shape == [1, 1, 3])
    }

    @Test("Reshape needs a contiguous view")
    func reshape() throws {
        let tensor = try Self.counting([2, 6])
        #expect(try tensor.reshaped([3, 4])[2, 3] == 11)
        #expect(throws: AttentionError.self) { try tensor.reshaped([5, 2]) }
        #expect(throws: AttentionError.self) { try tensor.transposed(0, 1).reshaped([12]) }
        #expect(try tensor.transposed(0, 1).contiguous().reshaped([12]).scalars == [0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11])
    }

    @Test("Views outside their storage are rejected")
    func outOfBounds() throws {
        let storage = TensorStorage<Float>(repeating: 0, count: 12)
        _ = try Tensor(storage: storage, shape: [3, 4], strides: [4, 1])
        _ = try Tensor(storage: storage, shape: [4, 3], strides: [1, 4])
        _ = try Tensor(storage: storage, shape: [3], strides: [-4], offset: 8)
        _ = try Tensor(storage: storage, shape: [0, 100], strides: [100, 1], offset: 12)
        let cases: [([Int], [Int], Int)] = [
            ([3, 5], [4, 1], 0),
            ([3, 4], [4, 1], 1),
            ([2, 2], [4, 1], -1),
            ([3], [-4], 4),
            ([2, 2], [1, 1], 11),
            ([Int.max / 2, 3], [3, 1], 0),
        ]
        for (shape, strides, offset) in cases {
            let error = #expect(throws: AttentionError.self) {
                try Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
            }
            #expect(error?.kind == .invalidView || error?.kind == .sizeLimitExceeded, "shape \(shape) strides \(strides) offset \(offset)")
        }
        #expect(throws: AttentionError.self) { try Tensor(storage: storage, shape: [2, -1], strides: [1, 1]) }
        #expect(throws: AttentionError.self) { try Tensor(storage: storage, shape: [2], strides: [1, 1]) }
    }

    @Test("Sizes are checked")
    func sizes() throws {
        #expect(throws: AttentionError.self) { try Tensor(shape: [-1], repeating: 0) }
        #expect(throws: AttentionError.self) { try Tensor(shape: [1 << 32, 1 << 32], repeating: 0) }
        let mismatch = #expect(throws: AttentionError.self) { try Tensor(shape: [2, 2], scalars: [1, 2, 3]) }
        #expect(mismatch?.kind == .shapeMismatch)
        #expect(try Tensor(shape: [], scalars: [5]).scalars == [5])
        #expect(try Tensor(shape: [0, 3], scalars: []).scalars.isEmpty)
    }

    @Test("Assign copies through strides")
    func assign() throws {
        let destination = try Tensor(shape: [3, 2], repeating: 0)
        try destination.transposed(0, 1).assign(from: try Self.counting([2, 3]))
        #expect(destination.scalars == [0, 3, 1, 4, 2, 5])
        #expect(throws: AttentionError.self) { try destination.assign(from: try Self.counting([2, 3])) }
    }
}
