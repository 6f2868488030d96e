import NIOPosix

/// Runs CPU work of a whole batch (parsing or encoding hundreds of events) on NIO's thread
/// pool, beside the caller instead of in its way.
///
/// The services run their tasks on NIO's event loops (`Runtime.runTasksOnEventLoops`), and a
/// child task starts on the loop of its parent, usually the loop that serves the database
/// connection. A batch's JSON work done there holds up that connection's replies: the next
/// statement waits until the work is done, and the second core stays idle. On the pool it
/// runs on another thread while the database executes the batch's statements.
public func offload<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await NIOThreadPool.singleton.runIfActive(work)
}
