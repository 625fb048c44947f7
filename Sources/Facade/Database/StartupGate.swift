/// Lets a background service wait until start-up work (the migrations) has finished,
/// so the outbox relay does not poll tables that do not exist yet.
final class StartupGate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func open() {
        continuation.yield()
        continuation.finish()
    }

    /// Returns once `open()` was called (or the waiting task is cancelled). Single waiter.
    func wait() async {
        for await _ in stream { return }
    }
}
