/// Runs independent server API work side by side, at most a fixed number at a time, keeping the results in order.
///
/// What this buys is not threads (the child tasks inherit the request's task executor, the event loop it came in
/// on) but overlap: while one command waits for Redis, the next is already written, and the Redis connection sends
/// everything written in one loop tick as one pipeline. Used by `batch` with `parallel`, as in Centrifugo.
enum BoundedConcurrency {
    /// Centrifugo's bound for a parallel batch.
    static let limit = 1024

    /// `body(0..<count)`, at most `limit` running at once; the results in index order.
    static func map<T: Sendable>(
        count: Int, limit: Int = BoundedConcurrency.limit, _ body: @escaping @Sendable (Int) async -> T
    ) async -> [T] {
        var results = [T?](repeating: nil, count: count)
        await withTaskGroup(of: (Int, T).self) { group in
            var next = 0
            func start() {
                let i = next
                next += 1
                group.addTask { (i, await body(i)) }
            }
            while next < min(limit, count) { start() }
            while let (i, result) = await group.next() {
                results[i] = result
                if next < count { start() }
            }
        }
        return results.map { $0! }
    }
}
