/// A band of keys around each query: local attention as a mask of the exact
/// kernels.
///
/// The window is aligned to the bottom-right corner, like
/// `CausalAlignment.bottomRight`: query `i` sees key `j` when
///
///     i - left <= j - (Lk - Lq) <= i + right
///
/// so the window of query `i` is centred on key `i + Lk - Lq`, and the last
/// query's window is centred on the last key. When `Lq == Lk` the centre is
/// key `i` itself. A window combines with a causal mask, a boolean or
/// additive mask and key padding: a key is visible only when every one of
/// them lets it through.
///
/// `SlidingWindow(left: 0, right: 0)` lets each query see exactly one key
/// position; `SlidingWindow(left: w, right: 0)` is the usual causal local
/// attention of width `w + 1`.
public struct SlidingWindow: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The number of keys before the centre that a query sees; at least 0.
    public var left: Int
    /// The number of keys after the centre that a query sees; at least 0.
    public var right: Int

    /// Creates a window. Negative sizes are rejected with a typed error when
    /// the window is passed to an attention call, not here.
    public init(left: Int, right: Int) {
        self.left = left
        self.right = right
    }

    public var description: String { "window(left: \(left), right: \(right))" }
}
