/// One scenario run against one server: everything the table, the JSON file and the comparison show.
/// Optional fields are nil where the scenario doesn't measure them.
struct ScenarioResult: Codable, Sendable {
    var scenario: String
    var kind: String
    var server: String
    var target: String
    var subscribers: Int = 0
    var channels: Int = 0
    var rate: String = "-"
    var durationSeconds: Double = 0

    // connections
    var connected: Int = 0
    var connectFailures: Int = 0
    var connectSeconds: Double?
    var connectsPerSecond: Double?
    /// Server CPU spent while connections were being opened (connect + subscribe), and what that makes per
    /// CPU-second: the rate one core could carry when the generator, not the server, sets the pace.
    var connectServerCpuSeconds: Double?
    var connectsPerServerCpuSecond: Double?
    var connectGeneratorCpuPercent: Double?
    /// CPU microseconds per connection while connecting: the server's (in all and in the kernel) and the
    /// generator's. The kernel share is the part no server can save by its own code (see `ProcStats.CPUTime`).
    var connectServerMicros: Double?
    var connectServerKernelMicros: Double?
    var connectGeneratorMicros: Double?
    var connectGeneratorKernelMicros: Double?
    var unexpectedCloses: Int = 0
    var closeCodes: [String: Int] = [:]
    var failureReasons: [String: Int] = [:]

    // publishing
    var publishRequests: Int?
    var publications: Int?
    var publishErrors: Int?
    var publicationsPerSecond: Double?
    var publishRttP50Ms: Double?
    var publishRttP99Ms: Double?

    // delivery
    var expectedDeliveries: Int?
    var delivered: Int?
    var lost: Int?
    var duplicated: Int?
    var deliveredPerSecond: Double?
    var latencyP50Ms: Double?
    var latencyP99Ms: Double?
    var latencyP999Ms: Double?
    var latencyMaxMs: Double?

    // churn
    var cycles: Int?
    var cyclesPerSecond: Double?
    var cycleP50Ms: Double?
    var cycleP99Ms: Double?

    // resources over the measured window
    var windowSeconds: Double = 0
    var serverCpuSeconds: Double = 0
    var serverKernelCpuSeconds: Double = 0
    var serverCpuPercent: Double = 0
    /// Deliveries (fanout/channels), connect cycles (churn), publications (publish) per server CPU-second.
    var opsPerServerCpuSecond: Double?
    var opsName: String = ""
    /// Server CPU microseconds per op, in all and in the kernel; the generator's per op.
    var serverMicrosPerOp: Double?
    var serverKernelMicrosPerOp: Double?
    var generatorMicrosPerOp: Double?
    var serverRssBeforeKiB: Int = 0
    var serverRssConnectedKiB: Int = 0
    var serverRssAfterKiB: Int = 0
    var rssPerConnectionKiB: Double?
    var generatorCpuSeconds: Double = 0
    var generatorCpuPercent: Double = 0
    var notes: [String] = []
}
