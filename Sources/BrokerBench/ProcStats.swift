#if canImport(Glibc)
import Glibc
#endif

/// CPU time and resident memory of processes, read from /proc (Linux only). Used for the server under test
/// (`--server-pid`/`pid=`, summed over several pids such as nginx master + worker, or two broker nodes + redis)
/// and for this process, to show whether the generator itself was the bottleneck.
enum ProcStats {
    static let clockTicks = Double(sysconf(Int32(_SC_CLK_TCK)))

    private static func read(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// CPU time of a process in seconds, split into user and kernel time (utime and stime). The kernel part
    /// includes the softirq work done in the process's context: on loopback that is the receiving socket's TCP
    /// processing too, so a server pays for its clients' receive path, and both compared servers pay it alike.
    struct CPUTime: Sendable {
        var user = 0.0
        var kernel = 0.0
        var total: Double { user + kernel }

        static func + (a: CPUTime, b: CPUTime) -> CPUTime { CPUTime(user: a.user + b.user, kernel: a.kernel + b.kernel) }
        static func - (a: CPUTime, b: CPUTime) -> CPUTime { CPUTime(user: a.user - b.user, kernel: a.kernel - b.kernel) }
    }

    /// Fields 14 and 15 of /proc/PID/stat (all threads); zero if the process is gone.
    static func cpuTime(pid: Int32) -> CPUTime {
        guard let s = read("/proc/\(pid)/stat"), let close = s.lastIndex(of: ")") else { return CPUTime() }
        let fields = s[s.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime is field 14 -> index 11, stime field 15 -> index 12.
        guard fields.count > 12, let u = Double(fields[11]), let st = Double(fields[12]) else { return CPUTime() }
        return CPUTime(user: u / clockTicks, kernel: st / clockTicks)
    }

    static func cpuTime(pids: [Int32]) -> CPUTime { pids.reduce(CPUTime()) { $0 + cpuTime(pid: $1) } }

    static func selfCPUTime() -> CPUTime { cpuTime(pid: getpid()) }

    /// VmRSS in KiB from /proc/PID/status; 0 if the process is gone.
    static func rssKiB(pid: Int32) -> Int {
        guard let s = read("/proc/\(pid)/status") else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    static func rssKiB(pids: [Int32]) -> Int { pids.reduce(0) { $0 + rssKiB(pid: $1) } }
}
