import Foundation
import NIOCore

/// How many event loops the broker runs: one per CPU it may actually run on.
///
/// NIO's `System.coreCount` honours cgroup quotas and cpusets but not the process's affinity mask, so a
/// broker started under `taskset -c 0` would run two loops that take turns on one core, paying a
/// context switch whenever work moves between them. Go's runtime (and so Centrifugo) sizes itself by the
/// affinity mask; so does this.
public enum UsableCores {
    public static var count: Int {
        let limit = max(1, System.coreCount)
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let allowed = allowedCPUs(status: status)
        else { return limit }
        return max(1, min(limit, allowed))
    }

    /// CPUs in the `Cpus_allowed:` hex mask of `/proc/<pid>/status` (e.g. `ff,ffffffff`).
    static func allowedCPUs(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("Cpus_allowed:") {
            var count = 0
            for c in line.dropFirst("Cpus_allowed:".count) {
                guard let digit = c.hexDigitValue else { continue }
                count += digit.nonzeroBitCount
            }
            return count > 0 ? count : nil
        }
        return nil
    }
}
