import Testing

@testable import Broker

@Suite struct UsableCoresTests {
    @Test func theAffinityMaskIsCountedBitByBit() {
        #expect(UsableCores.allowedCPUs(status: "Name:\tbroker\nCpus_allowed:\t1\nCpus_allowed_list:\t0\n") == 1)
        #expect(UsableCores.allowedCPUs(status: "Cpus_allowed:\t3\n") == 2)
        #expect(UsableCores.allowedCPUs(status: "Cpus_allowed:\tff,ffffffff\n") == 40)
        #expect(UsableCores.allowedCPUs(status: "Cpus_allowed:\t00000000,00000004\n") == 1)
    }

    @Test func noMaskMeansNoLimitFromIt() {
        #expect(UsableCores.allowedCPUs(status: "Name:\tbroker\n") == nil)
        #expect(UsableCores.allowedCPUs(status: "Cpus_allowed:\t0\n") == nil)
    }

    @Test func thisProcessRunsAtLeastOneLoop() {
        #expect(UsableCores.count >= 1)
    }
}
