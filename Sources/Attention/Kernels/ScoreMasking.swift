// Shape legend: scores tile [rowsInBlock, keysInBlock] with row stride
// `tileStride`; rows are query positions, columns are selected keys.

extension AttentionProblem {
    /// Scales a tile of raw dot products and applies every mask, writing
    /// `-infinity` at hidden keys.
    ///
    /// A key is hidden when the causal mask, the sliding window, the boolean
    /// mask or an additive `-infinity` hides it. Hidden keys get exactly `-infinity`
    /// even when their dot product is NaN or infinite, so `exp` turns them into exact
    /// zeros. An additive mask term is added after scaling.
    ///
    /// - Parameters:
    ///   - tile: the raw dot products `q · k`, overwritten in place.
    ///   - firstRow: the query position of tile row 0.
    ///   - firstKey: the selection index of tile column 0; column `c` is key
    ///     position `selection.key(firstKey + c)`.
    func scaleAndMask(
        tile: UnsafeMutablePointer<Float>, tileStride: Int,
        batch: Int, head: Int, firstRow: Int, rowCount: Int,
        selection: KeySelection, firstKey: Int, keyCount: Int
    ) {
        let scale = self.scale
        let booleanMask = self.booleanMask.map { $0.pointer(batch, head) }
        let additiveMask = self.additiveMask.map { $0.pointer(batch, head) }

        for r in 0..<rowCount {
            let row = firstRow + r
            let scores = tile + r * tileStride
            let bounds = visiblePositions(forQuery: row)

            // Without element masks or gathered keys, the causal mask and the
            // window split the row into hidden, visible and hidden columns.
            if case .prefix = selection, booleanMask == nil, additiveMask == nil {
                let visible = Self.columns(of: bounds, firstKey: firstKey, keyCount: keyCount)
                for c in 0..<visible.lowerBound { scores[c] = -.infinity }
                for c in visible { scores[c] *= scale }
                for c in visible.upperBound..<keyCount { scores[c] = -.infinity }
                continue
            }

            for c in 0..<keyCount {
                let position = selection.key(firstKey + c)
                if position < bounds.lower || position > bounds.upper {
                    scores[c] = -.infinity
                    continue
                }
                if let mask = booleanMask, !mask.base[row * mask.rowStride + position * mask.columnStride] {
                    scores[c] = -.infinity
                    continue
                }
                var score = scores[c] * scale
                if let mask = additiveMask {
                    let bias = mask.base[row * mask.rowStride + position * mask.columnStride]
                    score = bias == -.infinity ? -.infinity : score + bias
                }
                scores[c] = score
            }
        }
    }

    /// The number of leading selected keys (from `firstKey`) that the causal
    /// mask can leave visible to some query row in `firstRow..<firstRow+rowCount`;
    /// keys past it are hidden from every row of the block.
    func causallyVisibleKeyCount(firstRow: Int, rowCount: Int, selection: KeySelection, firstKey: Int, keyCount: Int) -> Int {
        guard causal != nil, rowCount > 0 else { return keyCount }
        let limit = causalLimit(forQuery: firstRow + rowCount - 1)
        var visible = 0
        while visible < keyCount, selection.key(firstKey + visible) <= limit {
            visible += 1
        }
        return visible
    }

    /// Returns the tile columns `0..<keyCount` whose key positions
    /// `firstKey + c` lie in `bounds`, for a prefix selection.
    private static func columns(of bounds: (lower: Int, upper: Int), firstKey: Int, keyCount: Int) -> Range<Int> {
        let start = Swift.min(keyCount, Swift.max(0, bounds.lower - firstKey))
        let end = bounds.upper == Int.max ? keyCount : Swift.min(keyCount, Swift.max(0, bounds.upper - firstKey + 1))
        return start..<Swift.max(start, end)
    }

    /// The selection indices in `firstKey..<firstKey+keyCount` that the
    /// causal mask and the sliding window can leave visible to some query row
    /// in `firstRow..<firstRow+rowCount`.
    ///
    /// Keys outside the returned range are hidden from every row of the
    /// block, so a kernel can skip them. Keys inside it may still be hidden
    /// from some rows, and `scaleAndMask` hides those. The range is empty,
    /// starting at `firstKey`, when no row sees any key of the tile. Both
    /// bounds of a row's visible positions grow with the row, so the union
    /// over the block is contained in the first row's lower bound through the
    /// last row's upper bound.
    ///
    /// - Complexity: O(log keyCount) for gathered keys, O(1) otherwise.
    func visibleKeyRange(firstRow: Int, rowCount: Int, selection: KeySelection, firstKey: Int, keyCount: Int) -> Range<Int> {
        guard rowCount > 0, keyCount > 0 else { return firstKey..<firstKey }
        let lowerPosition = visiblePositions(forQuery: firstRow).lower
        let upperPosition = visiblePositions(forQuery: firstRow + rowCount - 1).upper
        guard lowerPosition <= upperPosition else { return firstKey..<firstKey }

        // The first selection index whose key position is at least `position`.
        func firstIndex(atOrAfter position: Int) -> Int {
            switch selection {
            case .prefix:
                return Swift.min(Swift.max(position, firstKey), firstKey + keyCount)
            case .gathered(let positions):
                var low = firstKey
                var high = firstKey + keyCount
                while low < high {
                    let middle = (low + high) / 2
                    if positions[middle] < position { low = middle + 1 } else { high = middle }
                }
                return low
            }
        }

        let start = firstIndex(atOrAfter: lowerPosition)
        let end = upperPosition == Int.max ? firstKey + keyCount : firstIndex(atOrAfter: upperPosition + 1)
        return start < end ? start..<end : firstKey..<firstKey
    }
}
