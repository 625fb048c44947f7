import Testing

@testable import Broker

/// A capability probe answered CLUSTERDOWN says the cluster is not serving, not that a command is missing.
@Test func clusterDownAtStartIsNotReportedAsAMissingCommand() {
    let down = RedisCapabilityError.streamsUnavailable(address: "127.0.0.1:7000", detail: "CLUSTERDOWN The cluster is down")
    #expect(down.description.contains("the cluster is not serving right now"))
    #expect(!down.description.contains("refuses stream commands"))
    let script = RedisCapabilityError.scriptingUnavailable(address: "127.0.0.1:7000", detail: "CLUSTERDOWN Hash slot not served")
    #expect(script.description.contains("redis-cli --cluster check"))
    let refused = RedisCapabilityError.streamsUnavailable(address: "127.0.0.1:7000", detail: "ERR unknown command 'XADD'")
    #expect(refused.description.contains("refuses stream commands"))
}
