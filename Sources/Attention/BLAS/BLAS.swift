// The only Swift file that imports the C layer. Every call into OpenBLAS or
// LAPACKE goes through a wrapper here that checks its sizes first, because
// OpenBLAS reports an invalid argument by printing to stderr and computing
// nothing.

import CBLAS
import Foundation

/// A read-only matrix: `rows × columns` elements with strides in elements.
///
/// Element `(i, j)` lives at `base + i * rowStride + j * columnStride`.
struct MatrixOperand {
    var base: UnsafePointer<Float>
    var rows: Int
    var columns: Int
    var rowStride: Int
    var columnStride: Int

    /// The transpose, as a view of the same elements.
    var transposed: MatrixOperand {
        MatrixOperand(base: base, rows: columns, columns: rows, rowStride: columnStride, columnStride: rowStride)
    }
}

/// A writable matrix with the same addressing as `MatrixOperand`.
struct MutableMatrixOperand {
    var base: UnsafeMutablePointer<Float>
    var rows: Int
    var columns: Int
    var rowStride: Int
    var columnStride: Int

    var readOnly: MatrixOperand {
        MatrixOperand(base: base, rows: rows, columns: columns, rowStride: rowStride, columnStride: columnStride)
    }
}

/// The transpose flag and leading dimension that row-major `cblas_sgemm`
/// reads a matrix with.
private struct BLASLayout {
    var transposed: Bool
    var leadingDimension: Int
}

/// Typed wrappers over OpenBLAS.
public enum BLAS {
    /// The largest count, stride or leading dimension a BLAS call takes:
    /// OpenBLAS's default interface uses 32-bit `int`.
    static let maximumInt32 = Int(Int32.max)

    // MARK: - Threads

    /// The number of threads OpenBLAS uses inside one call
    /// (`openblas_get_num_threads` / `openblas_set_num_threads`).
    ///
    /// The setting is global to the process. The attention kernels set it to
    /// 1 while their own worker threads run, and restore it afterwards.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(clamping: Swift.max(newValue, 1))) }
    }

    /// Runs `body` with OpenBLAS limited to one thread, restoring the
    /// previous count when the last concurrent caller leaves.
    ///
    /// The engine's own worker threads each call sgemm; letting OpenBLAS
    /// start more threads inside them would oversubscribe the cores.
    static func withSingleThreadedBLAS<Result>(_ body: () throws -> Result) rethrows -> Result {
        singleThreadedScope.enter()
        defer { singleThreadedScope.leave() }
        return try body()
    }

    private static let singleThreadedScope = SingleThreadedScope()

    /// Counts the callers inside `withSingleThreadedBLAS`; the first saves
    /// and lowers OpenBLAS's thread count, the last restores it.
    private final class SingleThreadedScope: @unchecked Sendable {
        private let lock = NSLock()
        private var depth = 0
        private var savedThreadCount = 1

        func enter() {
            lock.withLock {
                if depth == 0 {
                    savedThreadCount = BLAS.threadCount
                    BLAS.threadCount = 1
                }
                depth += 1
            }
        }

        func leave() {
            lock.withLock {
                depth -= 1
                if depth == 0 { BLAS.threadCount = savedThreadCount }
            }
        }
    }

    /// The number of processors OpenBLAS detected (`openblas_get_num_procs`).
    public static var processorCount: Int { Int(openblas_get_num_procs()) }

    /// The name of the kernel family OpenBLAS selected for this CPU
    /// (`openblas_get_corename`), for example `SkylakeX` or `Zen`.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build configuration string (`openblas_get_config`),
    /// which includes its version.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    // MARK: - Matrix product over tensors

    /// Computes `c = alpha · a · b + beta · c` on rank-2 views by
    /// `cblas_sgemm`.
    ///
    /// Strides pick the transpose flags and leading dimensions, so transposed
    /// and strided views run without a copy; a view that no BLAS layout fits
    /// (stride 0, negative strides, gaps in both directions) is packed first.
    ///
    /// - Parameters:
    ///   - a: `[M, K]`.
    ///   - b: `[K, N]`.
    ///   - c: `[M, N]`, written in place. It must not overlap `a` or `b`.
    /// - Throws: `AttentionError` when ranks or shapes disagree, when `c`
    ///   addresses one element twice or overlaps `a` or `b`, or when a size
    ///   does not fit a 32-bit BLAS integer and cannot be split.
    /// - Complexity: O(M·N·K) time; O(M·K + K·N + M·N) scratch only when a
    ///   view must be packed.
    public static func multiply(_ a: Tensor, _ b: Tensor, into c: Tensor, alpha: Float = 1, beta: Float = 0) throws {
        for (name, view) in [("a", a), ("b", b), ("c", c)] where view.rank != 2 {
            throw AttentionError(
                .invalidShape, argument: name, expected: "a rank-2 matrix", actual: describeShape(view.shape))
        }
        guard a.shape[1] == b.shape[0] else {
            throw AttentionError(
                .shapeMismatch, argument: "b",
                expected: "\(a.shape[1]) rows to match the columns of a \(describeShape(a.shape))",
                actual: describeShape(b.shape))
        }
        guard c.shape == [a.shape[0], b.shape[1]] else {
            throw AttentionError(
                .shapeMismatch, argument: "c",
                expected: describeShape([a.shape[0], b.shape[1]]), actual: describeShape(c.shape))
        }
        if !c.isNonOverlapping {
            throw AttentionError(
                .invalidView, argument: "c", expected: "a view that addresses each element once",
                actual: "strides \(describeShape(c.strides)) for shape \(describeShape(c.shape))")
        }
        for (name, input) in [("a", a), ("b", b)] where AttentionProblem.mayOverlap(c, input) {
            throw AttentionError(
                .overlappingOutput, argument: "c", expected: "memory that does not overlap \(name)",
                actual: "a view sharing storage with \(name) in overlapping positions",
                fix: "Pass a separate output buffer")
        }
        try gemm(
            a.matrixOperand, b.matrixOperand, into: c.mutableMatrixOperand, alpha: alpha, beta: beta)
    }

    // MARK: - Matrix product over raw operands

    /// Computes `c = alpha · a · b + beta · c` by one or more `cblas_sgemm`
    /// calls.
    ///
    /// Counts larger than `maximumDimension` (M, N or K; `Int32.max` unless a
    /// test lowers it) are split into several calls, and a split along K
    /// accumulates with `beta = 1`. Leading dimensions are always checked
    /// against `Int32.max`. Matrices whose strides
    /// fit no BLAS layout are packed into scratch first; a `c` that is stored
    /// column by column is computed as `cᵀ = bᵀ · aᵀ`.
    ///
    /// - Precondition: `a.columns == b.rows`, `c` is `a.rows × b.columns`, and
    ///   `c` does not overlap `a` or `b`. Public entry points check shapes.
    static func gemm(
        _ a: MatrixOperand, _ b: MatrixOperand, into c: MutableMatrixOperand,
        alpha: Float = 1, beta: Float = 0, maximumDimension: Int = maximumInt32
    ) throws {
        precondition(a.columns == b.rows && c.rows == a.rows && c.columns == b.columns, "gemm shape mismatch")
        let m = c.rows
        let n = c.columns
        let k = a.columns
        if m == 0 || n == 0 { return }
        if k == 0 {
            scale(c, by: beta)
            return
        }

        // Split any dimension that a 32-bit BLAS integer cannot hold.
        if m > maximumDimension {
            return try gemmByRowBlocks(a, b, into: c, alpha: alpha, beta: beta, rowsPerCall: maximumDimension, maximumDimension: maximumDimension)
        }
        if n > maximumDimension {
            return try gemmByColumnBlocks(a, b, into: c, alpha: alpha, beta: beta, columnsPerCall: maximumDimension, maximumDimension: maximumDimension)
        }
        if k > maximumDimension {
            return try gemmByInnerBlocks(a, b, into: c, alpha: alpha, beta: beta, innerPerCall: maximumDimension, maximumDimension: maximumDimension)
        }

        // A view that must be packed is packed in pieces of at most
        // `packedElementLimit` elements, so a huge broadcast operand never
        // needs a copy of its full logical size.
        let packA = needsPacking(a)
        let packB = needsPacking(b)
        if (packA && m * k > packedElementLimit) || (packB && k * n > packedElementLimit) {
            let innerChunk = Swift.max(1, packedElementLimit / Swift.max(packA ? m : 1, packB ? n : 1))
            if innerChunk < k {
                return try gemmByInnerBlocks(a, b, into: c, alpha: alpha, beta: beta, innerPerCall: innerChunk, maximumDimension: maximumDimension)
            }
            let outerChunk = Swift.max(1, packedElementLimit / k)
            if packA && m > outerChunk {
                return try gemmByRowBlocks(a, b, into: c, alpha: alpha, beta: beta, rowsPerCall: outerChunk, maximumDimension: maximumDimension)
            }
            if packB && n > outerChunk {
                return try gemmByColumnBlocks(a, b, into: c, alpha: alpha, beta: beta, columnsPerCall: outerChunk, maximumDimension: maximumDimension)
            }
        }

        // The result must be row-major for a row-major call. A column-major
        // result is the row-major transpose, so compute c^T = b^T a^T; any
        // other result goes through packed scratch.
        let directLayout = layout(of: c.readOnly)
        let cLayout: BLASLayout
        if let directLayout, !directLayout.transposed, directLayout.leadingDimension <= maximumInt32 {
            cLayout = directLayout
        } else if let transposedLayout = layout(of: c.readOnly.transposed), !transposedLayout.transposed,
                  transposedLayout.leadingDimension <= maximumInt32 {
            let cTransposed = MutableMatrixOperand(
                base: c.base, rows: n, columns: m, rowStride: c.columnStride, columnStride: c.rowStride)
            try gemm(
                b.transposed, a.transposed, into: cTransposed,
                alpha: alpha, beta: beta, maximumDimension: maximumDimension)
            return
        } else {
            // No layout fits c, or its leading dimension exceeds Int32: compute
            // into packed scratch and scatter.
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
            defer { scratch.deallocate() }
            let packed = MutableMatrixOperand(base: scratch, rows: m, columns: n, rowStride: n, columnStride: 1)
            if beta != 0 { copy(c.readOnly, into: packed) }
            try gemm(a, b, into: packed, alpha: alpha, beta: beta, maximumDimension: maximumDimension)
            copy(packed.readOnly, into: c)
            return
        }

        try withBLASOperand(a, maximumDimension: maximumInt32) { aPointer, aLayout in
            try withBLASOperand(b, maximumDimension: maximumInt32) { bPointer, bLayout in
                try checkFits(cLayout.leadingDimension, "ldc", maximumDimension: maximumInt32)
                cblas_sgemm(
                    CblasRowMajor,
                    aLayout.transposed ? CblasTrans : CblasNoTrans,
                    bLayout.transposed ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k),
                    alpha, aPointer, Int32(aLayout.leadingDimension),
                    bPointer, Int32(bLayout.leadingDimension),
                    beta, c.base, Int32(cLayout.leadingDimension))
            }
        }
    }

    // MARK: - Splitting

    /// `gemm` on blocks of at most `rowsPerCall` rows of `a` and `c`.
    private static func gemmByRowBlocks(
        _ a: MatrixOperand, _ b: MatrixOperand, into c: MutableMatrixOperand,
        alpha: Float, beta: Float, rowsPerCall: Int, maximumDimension: Int
    ) throws {
        var row = 0
        while row < c.rows {
            let rows = Swift.min(rowsPerCall, c.rows - row)
            try gemm(
                a.rows(row, count: rows), b, into: c.rows(row, count: rows),
                alpha: alpha, beta: beta, maximumDimension: maximumDimension)
            row += rows
        }
    }

    /// `gemm` on blocks of at most `columnsPerCall` columns of `b` and `c`.
    private static func gemmByColumnBlocks(
        _ a: MatrixOperand, _ b: MatrixOperand, into c: MutableMatrixOperand,
        alpha: Float, beta: Float, columnsPerCall: Int, maximumDimension: Int
    ) throws {
        var column = 0
        while column < c.columns {
            let columns = Swift.min(columnsPerCall, c.columns - column)
            try gemm(
                a, b.columns(column, count: columns), into: c.columns(column, count: columns),
                alpha: alpha, beta: beta, maximumDimension: maximumDimension)
            column += columns
        }
    }

    /// `gemm` over blocks of at most `innerPerCall` of the inner dimension;
    /// every block after the first accumulates with `beta = 1`.
    private static func gemmByInnerBlocks(
        _ a: MatrixOperand, _ b: MatrixOperand, into c: MutableMatrixOperand,
        alpha: Float, beta: Float, innerPerCall: Int, maximumDimension: Int
    ) throws {
        var inner = 0
        while inner < a.columns {
            let count = Swift.min(innerPerCall, a.columns - inner)
            try gemm(
                a.columns(inner, count: count), b.rows(inner, count: count), into: c,
                alpha: alpha, beta: inner == 0 ? beta : 1, maximumDimension: maximumDimension)
            inner += count
        }
    }

    // MARK: - Layout helpers

    /// The largest operand, in elements, that one call packs into scratch
    /// (64 MiB of floats).
    static let packedElementLimit = 1 << 24

    /// Returns whether BLAS cannot read `matrix` in place.
    private static func needsPacking(_ matrix: MatrixOperand) -> Bool {
        guard let direct = layout(of: matrix) else { return true }
        return direct.leadingDimension > maximumInt32
    }

    /// Returns the BLAS layout that reads `matrix` in place, or `nil` when none fits.
    ///
    /// Row-major storage needs `columnStride == 1` and a leading dimension of
    /// at least `max(1, columns)`; column-major storage is the transpose. A
    /// dimension of size 1 places no constraint on its stride.
    private static func layout(of matrix: MatrixOperand) -> BLASLayout? {
        let rows = matrix.rows
        let columns = matrix.columns
        if columns == 1 || matrix.columnStride == 1 {
            let leading = rows == 1 ? Swift.max(columns, 1) : matrix.rowStride
            if leading >= Swift.max(columns, 1) {
                return BLASLayout(transposed: false, leadingDimension: leading)
            }
        }
        if rows == 1 || matrix.rowStride == 1 {
            let leading = columns == 1 ? Swift.max(rows, 1) : matrix.columnStride
            if leading >= Swift.max(rows, 1) {
                return BLASLayout(transposed: true, leadingDimension: leading)
            }
        }
        return nil
    }

    /// Calls `body` with a pointer and layout that BLAS can read for
    /// `matrix`, packing it into row-major scratch when no layout fits.
    private static func withBLASOperand(
        _ matrix: MatrixOperand, maximumDimension: Int,
        _ body: (UnsafePointer<Float>, BLASLayout) throws -> Void
    ) throws {
        if let direct = layout(of: matrix), direct.leadingDimension <= maximumDimension {
            try body(matrix.base, direct)
            return
        }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: matrix.rows * matrix.columns)
        defer { scratch.deallocate() }
        let packed = MutableMatrixOperand(
            base: scratch, rows: matrix.rows, columns: matrix.columns,
            rowStride: matrix.columns, columnStride: 1)
        copy(matrix, into: packed)
        let packedLayout = BLASLayout(transposed: false, leadingDimension: Swift.max(matrix.columns, 1))
        try checkFits(packedLayout.leadingDimension, "leading dimension", maximumDimension: maximumDimension)
        try body(UnsafePointer(scratch), packedLayout)
    }

    private static func checkFits(_ value: Int, _ name: String, maximumDimension: Int) throws {
        guard value <= maximumDimension else {
            throw AttentionError(
                .sizeLimitExceeded, argument: name,
                expected: "at most \(maximumDimension) to fit a 32-bit BLAS integer", actual: "\(value)")
        }
    }

    /// Copies every element of `source` into `destination` (same shape).
    static func copy(_ source: MatrixOperand, into destination: MutableMatrixOperand) {
        for i in 0..<source.rows {
            let from = source.base + i * source.rowStride
            let to = destination.base + i * destination.rowStride
            if source.columnStride == 1 && destination.columnStride == 1 {
                to.update(from: from, count: source.columns)
            } else {
                for j in 0..<source.columns {
                    to[j * destination.columnStride] = from[j * source.columnStride]
                }
            }
        }
    }

    /// Multiplies every element of `matrix` by `factor`; a factor of 0 writes
    /// exact zeros, as BLAS does for `beta = 0`.
    private static func scale(_ matrix: MutableMatrixOperand, by factor: Float) {
        for i in 0..<matrix.rows {
            let row = matrix.base + i * matrix.rowStride
            for j in 0..<matrix.columns {
                row[j * matrix.columnStride] = factor == 0 ? 0 : row[j * matrix.columnStride] * factor
            }
        }
    }
}

// MARK: - Sub-matrices

extension MatrixOperand {
    func rows(_ start: Int, count: Int) -> MatrixOperand {
        MatrixOperand(base: base + start * rowStride, rows: count, columns: columns, rowStride: rowStride, columnStride: columnStride)
    }

    func columns(_ start: Int, count: Int) -> MatrixOperand {
        MatrixOperand(base: base + start * columnStride, rows: rows, columns: count, rowStride: rowStride, columnStride: columnStride)
    }
}

extension MutableMatrixOperand {
    func rows(_ start: Int, count: Int) -> MutableMatrixOperand {
        MutableMatrixOperand(base: base + start * rowStride, rows: count, columns: columns, rowStride: rowStride, columnStride: columnStride)
    }

    func columns(_ start: Int, count: Int) -> MutableMatrixOperand {
        MutableMatrixOperand(base: base + start * columnStride, rows: rows, columns: count, rowStride: rowStride, columnStride: columnStride)
    }
}

// MARK: - Tensor bridges

extension StridedTensor where Scalar == Float {
    /// This rank-2 view as a BLAS operand.
    var matrixOperand: MatrixOperand {
        precondition(rank == 2, "matrixOperand needs a rank-2 view")
        return MatrixOperand(
            base: UnsafePointer(baseAddress), rows: shape[0], columns: shape[1],
            rowStride: strides[0], columnStride: strides[1])
    }

    /// This rank-2 view as a writable BLAS operand.
    var mutableMatrixOperand: MutableMatrixOperand {
        precondition(rank == 2, "mutableMatrixOperand needs a rank-2 view")
        return MutableMatrixOperand(
            base: baseAddress, rows: shape[0], columns: shape[1],
            rowStride: strides[0], columnStride: strides[1])
    }
}

// MARK: - LAPACK

/// Typed wrappers over LAPACKE for the factorizations sgemm cannot do. Every
/// matrix is row-major and packed (leading dimension = columns); every
/// wrapper checks that its sizes fit LAPACK's 32-bit integers before the
/// call and turns a nonzero `info` into `AttentionError(.lapackFailure)`.
enum LAPACK {
    /// Factors `a = Q·R` in place by `LAPACKE_sgeqrf`.
    ///
    /// On return the upper triangle of `a` holds `R` and the part below the
    /// diagonal holds the Householder reflectors that `formQ` expands.
    ///
    /// - Parameter a: `[rows, columns]`, overwritten.
    /// - Returns: the `min(rows, columns)` reflector scales (`tau`).
    /// - Throws: `.sizeLimitExceeded` when a size does not fit `Int32`;
    ///   `.lapackFailure` when LAPACKE reports an invalid argument, which
    ///   includes NaN in `a`.
    static func qrFactorization(_ a: inout [Float], rows: Int, columns: Int) throws -> [Float] {
        try checkSizes(rows: rows, columns: columns, routine: "LAPACKE_sgeqrf")
        precondition(a.count == rows * columns, "qrFactorization: a must hold rows × columns elements")
        var tau = [Float](repeating: 0, count: Swift.min(rows, columns))
        if rows == 0 || columns == 0 { return tau }
        let info = a.withUnsafeMutableBufferPointer { matrix in
            tau.withUnsafeMutableBufferPointer { scales in
                LAPACKE_sgeqrf(
                    LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), matrix.baseAddress, Int32(columns),
                    scales.baseAddress)
            }
        }
        try check(info, routine: "LAPACKE_sgeqrf", matrixArgument: 4)
        return tau
    }

    /// Overwrites the output of `qrFactorization` with the first `columns`
    /// columns of `Q`, which are orthonormal, by `LAPACKE_sorgqr`.
    ///
    /// - Parameters:
    ///   - a: `[rows, columns]` with `rows >= columns`, as `qrFactorization`
    ///     left it.
    ///   - reflectorScales: the `tau` that `qrFactorization` returned.
    /// - Throws: as `qrFactorization`, and `.invalidShape` when
    ///   `rows < columns`.
    static func formQ(_ a: inout [Float], rows: Int, columns: Int, reflectorScales: [Float]) throws {
        try checkSizes(rows: rows, columns: columns, routine: "LAPACKE_sorgqr")
        guard rows >= columns else {
            throw AttentionError(
                .invalidShape, argument: "LAPACKE_sorgqr", expected: "at least as many rows as columns",
                actual: "\(rows) × \(columns)")
        }
        precondition(a.count == rows * columns, "formQ: a must hold rows × columns elements")
        precondition(reflectorScales.count == columns, "formQ: one reflector scale per column")
        if columns == 0 { return }
        let info = a.withUnsafeMutableBufferPointer { matrix in
            reflectorScales.withUnsafeBufferPointer { scales in
                LAPACKE_sorgqr(
                    LAPACK_ROW_MAJOR, Int32(rows), Int32(columns), Int32(columns), matrix.baseAddress,
                    Int32(columns), scales.baseAddress)
            }
        }
        try check(info, routine: "LAPACKE_sorgqr", matrixArgument: 5)
    }

    /// The thin singular value decomposition `a = U · diag(σ) · Vᵀ` by
    /// `LAPACKE_sgesdd` (divide and conquer, `jobz = 'S'`).
    ///
    /// - Parameter a: `[rows, columns]`; a copy is factored.
    /// - Returns: `u` `[rows, k]`, the singular values `[k]` in descending
    ///   order, and `vt` `[k, columns]`, with `k = min(rows, columns)`.
    /// - Throws: `.sizeLimitExceeded` when a size does not fit `Int32`;
    ///   `.lapackFailure` when LAPACKE reports an invalid argument (NaN in
    ///   `a` included) or the bidiagonal iteration did not converge.
    static func singularValueDecomposition(
        _ a: [Float], rows: Int, columns: Int
    ) throws -> (u: [Float], singularValues: [Float], vt: [Float]) {
        try checkSizes(rows: rows, columns: columns, routine: "LAPACKE_sgesdd")
        precondition(a.count == rows * columns, "singularValueDecomposition: a must hold rows × columns elements")
        let k = Swift.min(rows, columns)
        var matrix = a
        var u = [Float](repeating: 0, count: rows * k)
        var singularValues = [Float](repeating: 0, count: k)
        var vt = [Float](repeating: 0, count: k * columns)
        if k == 0 { return (u, singularValues, vt) }
        let info = matrix.withUnsafeMutableBufferPointer { matrixBuffer in
            u.withUnsafeMutableBufferPointer { uBuffer in
                singularValues.withUnsafeMutableBufferPointer { sBuffer in
                    vt.withUnsafeMutableBufferPointer { vtBuffer in
                        LAPACKE_sgesdd(
                            LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(rows), Int32(columns),
                            matrixBuffer.baseAddress, Int32(columns), sBuffer.baseAddress,
                            uBuffer.baseAddress, Int32(k), vtBuffer.baseAddress, Int32(columns))
                    }
                }
            }
        }
        try check(info, routine: "LAPACKE_sgesdd", matrixArgument: 5)
        return (u, singularValues, vt)
    }

    /// Rejects sizes whose counts or element totals do not fit LAPACK's
    /// 32-bit integers.
    static func checkSizes(rows: Int, columns: Int, routine: String) throws {
        for (name, value) in [("rows", rows), ("columns", columns)] {
            guard value >= 0, value <= BLAS.maximumInt32 else {
                throw AttentionError(
                    .sizeLimitExceeded, argument: "\(routine) \(name)",
                    expected: "0...\(BLAS.maximumInt32) to fit a 32-bit LAPACK integer", actual: "\(value)")
            }
        }
        guard !rows.multipliedReportingOverflow(by: columns).overflow else {
            throw AttentionError(
                .sizeLimitExceeded, argument: "\(routine) matrix",
                expected: "rows × columns that fits Int", actual: "\(rows) × \(columns)")
        }
    }

    /// Converts LAPACKE's `info` into a typed error: negative values name an
    /// invalid argument (LAPACKE's NaN check reports NaN in the matrix as
    /// argument `matrixArgument`; -1010 and -1011 are failed workspace
    /// allocations), positive values a routine-specific failure.
    private static func check(_ info: Int32, routine: String, matrixArgument: Int) throws {
        if info == 0 { return }
        let meaning: String
        switch Int(info) {
        case -matrixArgument:
            meaning = "the matrix is invalid; LAPACKE reports NaN entries this way"
        case -1011, -1010:
            meaning = "LAPACKE could not allocate its workspace"
        case ..<0:
            meaning = "argument \(-info) is invalid"
        default:
            meaning = routine == "LAPACKE_sgesdd"
                ? "the singular value iteration did not converge"
                : "the routine reported a failure"
        }
        throw AttentionError(
            .lapackFailure, argument: routine, expected: "info = 0", actual: "info = \(info): \(meaning)",
            fix: "Check the inputs for NaN or infinite values")
    }
}
