// Shape legend:
//   query [B, Hq, Lq, Dk], key [B, Hkv, Lk, Dk], value [B, Hkv, Lk, Dv]
//   output [B, Hq, Lq, Dv], logSumExp [B, Hq, Lq], weights [B, Hq, Lq, Lk]

import Foundation

/// The naive reference: plain loops over every query, key and feature with
/// float64 accumulation, reading each element through its strides.
///
/// It is the oracle of the tests and the baseline of the benchmark. It skips
/// masked keys entirely, so non-finite keys or values behind any mask never
/// reach the output. Work items (batch, head) run on `threadCount` threads.
enum ReferenceKernel {
    static func run(_ problem: AttentionProblem, threadCount: Int) {
        let items = problem.batchSize * problem.queryHeads
        if items == 0 || problem.queryLength == 0 { return }
        // With Dv = 0 and no log-sum-exp or weights there is nothing to write.
        if problem.valueDimension == 0 && problem.logSumExp == nil && problem.weights == nil { return }
        parallelFor(count: items, threadCount: threadCount) { item in
            let batch = item / problem.queryHeads
            let head = item % problem.queryHeads
            runHead(problem, batch: batch, head: head)
        }
    }

    private static func runHead(_ problem: AttentionProblem, batch: Int, head: Int) {
        let kvHead = problem.keyValueHead(forQueryHead: head)
        let selection = problem.keySelections[batch]
        let scale = Double(problem.scale)
        let dk = problem.keyDimension
        let dv = problem.valueDimension
        let query = problem.query.pointer(batch, head)
        let key = problem.key.pointer(batch, kvHead)
        let value = problem.value.pointer(batch, kvHead)
        let output = problem.output.pointer(batch, head)
        let booleanMask = problem.booleanMask.map { $0.pointer(batch, head) }
        let additiveMask = problem.additiveMask.map { $0.pointer(batch, head) }
        var scores = [Double](repeating: 0, count: selection.count)
        var visible = [Bool](repeating: false, count: selection.count)
        var accumulator = [Double](repeating: 0, count: dv)

        for row in 0..<problem.queryLength {
            let queryRow = query.base + row * query.rowStride

            // 1. Scaled, masked scores of the visible keys.
            var rowMax = -Double.infinity
            var sawNaN = false
            var anyVisible = false
            let bounds = problem.visiblePositions(forQuery: row)
            for index in 0..<selection.count {
                let keyPosition = selection.key(index)
                visible[index] = false
                guard keyPosition >= bounds.lower, keyPosition <= bounds.upper else { continue }
                if let mask = booleanMask,
                   !mask.base[row * mask.rowStride + keyPosition * mask.columnStride] { continue }
                let keyRow = key.base + keyPosition * key.rowStride
                var dot = 0.0
                for d in 0..<dk {
                    dot += Double(queryRow[d * query.columnStride]) * Double(keyRow[d * key.columnStride])
                }
                var score = scale * dot
                if let mask = additiveMask {
                    let bias = Double(mask.base[row * mask.rowStride + keyPosition * mask.columnStride])
                    if bias == -.infinity { continue }
                    score += bias
                }
                // A score of -infinity, from the data or from a bias, hides
                // its key as a mask would: its weight is exactly 0, its value
                // is never read, and a row of such scores is fully masked.
                if score == -.infinity { continue }
                scores[index] = score
                visible[index] = true
                anyVisible = true
                if score.isNaN { sawNaN = true } else if score > rowMax { rowMax = score }
            }
            // A NaN score makes the whole row NaN, as in a textbook softmax.
            if sawNaN { rowMax = .nan }

            // 2. Softmax numerators relative to the row maximum, and their sum.
            var sum = 0.0
            for index in 0..<selection.count where visible[index] {
                let weight = exp(scores[index] - rowMax)
                scores[index] = weight
                sum += weight
            }

            // 3. Weighted sum of the values, then normalization. A row with
            //    no visible key is zero, and its log-sum-exp is -infinity.
            for d in 0..<dv { accumulator[d] = 0 }
            for index in 0..<selection.count where visible[index] {
                let valueRow = value.base + selection.key(index) * value.rowStride
                let weight = scores[index]
                for d in 0..<dv {
                    accumulator[d] += weight * Double(valueRow[d * value.columnStride])
                }
            }
            let outputRow = output.base + row * output.rowStride
            for d in 0..<dv {
                outputRow[d * output.columnStride] = anyVisible ? Float(accumulator[d] / sum) : 0
            }
            if let logSumExp = problem.logSumExp {
                logSumExp.storage.baseAddress[logSumExp.offset + batch * logSumExp.strides[0]
                    + head * logSumExp.strides[1] + row * logSumExp.strides[2]] =
                    anyVisible ? Float(rowMax + log(sum)) : -.infinity
            }
            if let weights = problem.weights {
                let weightRow = weights.pointer(batch, head)
                let base = weightRow.base + row * weightRow.rowStride
                for position in 0..<problem.keyLength {
                    base[position * weightRow.columnStride] = 0
                }
                for index in 0..<selection.count where visible[index] {
                    base[selection.key(index) * weightRow.columnStride] = Float(scores[index] / sum)
                }
            }
        }
    }
}

extension StridedTensor {
    /// The rank-2 matrix `[batch, head, :, :]` of a rank-4 view, as a base
    /// address with the strides of its last two dimensions.
    @inline(__always)
    func pointer(_ batch: Int, _ head: Int) -> (base: UnsafeMutablePointer<Scalar>, rowStride: Int, columnStride: Int) {
        (storage.baseAddress + offset + batch * strides[0] + head * strides[1], strides[2], strides[3])
    }
}
