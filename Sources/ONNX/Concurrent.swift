import Foundation

/// `body` over the chunks of `0..<count` (`chunk` at a time) on all cores; the chunks' results
/// joined in order; the first error thrown, if any. Each chunk may keep state of its own
/// (an interpreter, a batch of images).
func concurrentChunks(_ count: Int, chunk: Int, _ body: @Sendable (Range<Int>) throws -> [Int]) throws -> [Int] {
    final class Results: @unchecked Sendable {
        let lock = NSLock()
        var parts: [[Int]]
        var error: Error?
        init(_ n: Int) { parts = Array(repeating: [], count: n) }
    }
    let results = Results((count + chunk - 1) / chunk)
    DispatchQueue.concurrentPerform(iterations: results.parts.count) { c in
        let range = c * chunk..<min(count, (c + 1) * chunk)
        do {
            let part = try body(range)
            results.lock.lock()
            results.parts[c] = part
            results.lock.unlock()
        } catch {
            results.lock.lock()
            results.error = error
            results.lock.unlock()
        }
    }
    if let e = results.error { throw e }
    return results.parts.flatMap { $0 }
}

/// The index of the largest value, the lowest on a tie.
func argmax<C: Collection>(_ values: C) -> Int where C.Element == Float {
    var best = values.startIndex
    for j in values.indices where values[j] > values[best] { best = j }
    return values.distance(from: values.startIndex, to: best)
}
