#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic nanoseconds (CLOCK_MONOTONIC). Publishers stamp payloads with it and subscribers subtract it on
/// receipt; both run in this process, so the clocks agree.
@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Raises the soft open-files limit to the hard limit: 19,000 subscribers need 19,000 descriptors.
func raiseFileLimit() -> Int {
    var lim = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) == 0 else { return -1 }
    lim.rlim_cur = lim.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
    return Int(lim.rlim_cur)
}
