/// A fixed-size buffer of scalars that one or more tensor views share.
///
/// Scalars are bitwise copyable, so the buffer needs no deinitialization.
/// Storage has reference semantics: writing through one view is visible
/// through every other view of the same storage. The buffer is either
/// allocated and owned here, or borrowed from memory that a `deallocator`
/// releases (for example a memory-mapped file).
public final class TensorStorage<Scalar: BitwiseCopyable>: @unchecked Sendable {
    /// The number of scalars in the buffer.
    public let count: Int
    /// The first scalar of the buffer.
    public let baseAddress: UnsafeMutablePointer<Scalar>
    private let deallocator: (() -> Void)?

    /// Allocates storage for `count` scalars, each set to `value`.
    ///
    /// - Precondition: `count >= 0`. Public tensor initializers check this and
    ///   throw before they get here.
    public init(repeating value: Scalar, count: Int) {
        precondition(count >= 0, "storage count must not be negative")
        self.count = count
        // Allocate at least one scalar so that an empty tensor still has a
        // valid address to pass to C code that ignores it.
        baseAddress = .allocate(capacity: Swift.max(count, 1))
        baseAddress.initialize(repeating: value, count: Swift.max(count, 1))
        deallocator = nil
    }

    /// Allocates storage holding a copy of `scalars`.
    public init(_ scalars: [Scalar]) {
        count = scalars.count
        let address = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(scalars.count, 1))
        scalars.withUnsafeBufferPointer { buffer in
            if let source = buffer.baseAddress {
                address.initialize(from: source, count: buffer.count)
            }
        }
        baseAddress = address
        deallocator = nil
    }

    /// Wraps memory owned elsewhere; `deallocator` runs when the storage is
    /// released. The caller guarantees that `baseAddress` points to `count`
    /// initialized scalars that stay valid until then.
    public init(borrowing baseAddress: UnsafeMutablePointer<Scalar>, count: Int, deallocator: @escaping () -> Void) {
        precondition(count >= 0, "storage count must not be negative")
        self.count = count
        self.baseAddress = baseAddress
        self.deallocator = deallocator
    }

    deinit {
        if let deallocator {
            deallocator()
        } else {
            baseAddress.deallocate()
        }
    }
}
