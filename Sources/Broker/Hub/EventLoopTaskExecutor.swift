import NIOCore

/// Runs the jobs of the tasks that prefer it (`Task(executorPreference:)`) on one event loop.
///
/// A command or HTTP request that needs the engine runs as a task; by default it would run on Swift's
/// global executor and hop back to the loop, and with the Redis engine its connection's replies arrive on
/// yet another thread. With the task on the loop that read the request (and the Redis connections on the
/// broker's loops), a publish through Redis is read, sent, answered and replied to on one thread. Default
/// actors the task calls (such as the Redis shard pool) run on the preferred executor too (SE-0417).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}

extension EventLoopPromise where Value: Sendable {
    /// Completes the promise with `work`, run as a task on `executor`'s loop.
    func completeWithTask(on executor: EventLoopTaskExecutor, _ work: @escaping @Sendable () async throws -> Value) {
        Task(executorPreference: executor) {
            do {
                self.succeed(try await work())
            } catch {
                self.fail(error)
            }
        }
    }
}
