import Dispatch
import Foundation

/// Wall-clock seconds since an arbitrary start.
func now() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Returns the median of `repetitions` timed calls of `body` in milliseconds,
/// after one untimed warm-up call unless `warmedUp` is true.
func medianMilliseconds(repetitions: Int, warmedUp: Bool = false, _ body: () throws -> Void) rethrows -> Double {
    if !warmedUp { try body() }
    var times: [Double] = []
    for _ in 0..<repetitions {
        let start = now()
        try body()
        times.append((now() - start) * 1000)
    }
    times.sort()
    let middle = times.count / 2
    return times.count % 2 == 1 ? times[middle] : (times[middle - 1] + times[middle]) / 2
}

/// Repetitions that fit in about `budget` seconds for a call that took
/// `seconds`, within `minimum...maximum`.
func repetitions(forCallTaking seconds: Double, budget: Double, minimum: Int, maximum: Int) -> Int {
    guard seconds > 0 else { return maximum }
    return Swift.max(minimum, Swift.min(maximum, Int(budget / seconds)))
}

/// Writes progress to stderr, so stdout holds only results.
func progress(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
