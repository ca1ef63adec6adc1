// Shape legend: scores tile [rowsInBlock, keysInBlock] with row stride
// `tileStride`; rows are query positions, columns are selected keys.

extension AttentionProblem {
    /// Scales a tile of raw dot products and applies every mask, writing
    /// `-infinity` at hidden keys.
    ///
    /// A key is hidden when the causal mask, the boolean mask or an additive
    /// `-infinity` hides it. Hidden keys get exactly `-infinity` even when
    /// their dot product is NaN or infinite, so `exp` turns them into exact
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
            let limit = causalLimit(forQuery: row)

            // Without element masks or gathered keys, the causal limit splits
            // the row into a visible prefix and a hidden suffix.
            if case .prefix = selection, booleanMask == nil, additiveMask == nil {
                let visibleCount = Swift.max(0, Swift.min(keyCount, limit == Int.max ? keyCount : limit - firstKey + 1))
                for c in 0..<visibleCount { scores[c] *= scale }
                for c in visibleCount..<keyCount { scores[c] = -.infinity }
                continue
            }

            for c in 0..<keyCount {
                let position = selection.key(firstKey + c)
                if position > limit {
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
}
