// Shape legend:
//   per (batch, head, query block): keySplitCount parts, each with
//     accumulator [rowsInBlock, Dv], runningMax [rowsInBlock], runningSum [rowsInBlock]

import Foundation

/// The unnormalized results of the key parts of a split tiled run, and their
/// merge by log-sum-exp.
///
/// A part holds, per row, its maximum score `m`, its sum `s = Σ exp(x - m)`
/// and the matching weighted sum of values `a`. The merged row uses the
/// largest maximum `M`: sum `Σ s · exp(m - M)`, accumulator
/// `Σ a · exp(m - M)`, parts added in index order so the result does not
/// depend on which thread ran which part.
final class PartialResults: @unchecked Sendable {
    private let problem: AttentionProblem
    private let blocking: TiledBlocking
    /// Floats per part: a full query block's accumulator, maxima and sums.
    private let floatsPerPart: Int
    private let storage: UnsafeMutablePointer<Float>

    /// The floats needed for every part of every work item: 0 without a
    /// split, and `Int.max` when the count does not fit `Int`.
    static func floatCount(_ problem: AttentionProblem, blocking: TiledBlocking) -> Int {
        guard blocking.keySplitCount > 1 else { return 0 }
        let rows = Swift.min(blocking.queryBlockSize, problem.queryLength)
        let perItem = saturatingProduct(rows, saturatingSum(problem.valueDimension, 2))
        return saturatingProduct(blocking.workItemCount(problem), perItem)
    }

    init(_ problem: AttentionProblem, blocking: TiledBlocking) {
        self.problem = problem
        self.blocking = blocking
        let rows = Swift.min(blocking.queryBlockSize, problem.queryLength)
        floatsPerPart = rows * (problem.valueDimension + 2)
        storage = .allocate(capacity: Swift.max(1, Self.floatCount(problem, blocking: blocking)))
    }

    func deallocate() { storage.deallocate() }

    /// The state of work item `index`; each work item owns its own slot.
    func state(ofItem index: Int, rows: Int) -> TiledKernel.SoftmaxState {
        let base = storage + index * floatsPerPart
        return TiledKernel.SoftmaxState(
            accumulator: base, runningMax: base + rows * problem.valueDimension,
            runningSum: base + rows * (problem.valueDimension + 1))
    }

    /// Returns `value · factor`, or exactly 0 when the factor is 0, even for
    /// an infinite or NaN value.
    @inline(__always)
    private static func weighted(_ value: Float, _ factor: Float) -> Float {
        factor == 0 ? 0 : value * factor
    }

    /// Merges the parts of every (batch, head, query block) into the output.
    func merge(threadCount: Int) {
        let parts = blocking.keySplitCount
        let blocks = blocking.workItemCount(problem) / parts
        let dv = problem.valueDimension
        parallelFor(count: blocks, threadCount: threadCount) { block in
            let first = TiledKernel.WorkItem(index: block * parts, problem: self.problem, blocking: self.blocking)
            let firstRow = first.queryBlock * self.blocking.queryBlockSize
            let rows = Swift.min(self.blocking.queryBlockSize, self.problem.queryLength - firstRow)
            // The merged result overwrites part 0's slot.
            let merged = self.state(ofItem: block * parts, rows: rows)
            for part in 1..<parts {
                let next = self.state(ofItem: block * parts + part, rows: rows)
                for r in 0..<rows {
                    let partMax = next.runningMax[r]
                    if partMax == -.infinity { continue }
                    let mergedMax = merged.runningMax[r]
                    // A NaN maximum in any part makes the row NaN.
                    let newMax = partMax.isNaN || mergedMax.isNaN ? Float.nan : Swift.max(mergedMax, partMax)
                    let mergedFactor = mergedMax == -.infinity ? 0 : Exponential.scalar(mergedMax - newMax)
                    let partFactor = Exponential.scalar(partMax - newMax)
                    let mergedRow = merged.accumulator + r * dv
                    let partRow = next.accumulator + r * dv
                    // A factor of 0 gives that side's keys weight 0, so an
                    // infinite or NaN value among them adds nothing instead
                    // of NaN, as in the tile step.
                    if mergedMax == -.infinity {
                        for d in 0..<dv { mergedRow[d] = Self.weighted(partRow[d], partFactor) }
                    } else {
                        for d in 0..<dv {
                            mergedRow[d] = Self.weighted(mergedRow[d], mergedFactor) + Self.weighted(partRow[d], partFactor)
                        }
                    }
                    merged.runningSum[r] = merged.runningSum[r] * mergedFactor + next.runningSum[r] * partFactor
                    merged.runningMax[r] = newMax
                }
            }
            TiledKernel.writeOutput(
                self.problem, batch: first.batch, head: first.head, firstRow: firstRow, rowsInBlock: rows, state: merged)
        }
    }
}
