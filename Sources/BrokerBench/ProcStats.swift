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

    /// utime + stime in seconds, fields 14 and 15 of /proc/PID/stat (all threads); 0 if the process is gone.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let s = read("/proc/\(pid)/stat"), let close = s.lastIndex(of: ")") else { return 0 }
        let fields = s[s.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime is field 14 -> index 11, stime field 15 -> index 12.
        guard fields.count > 12, let u = Double(fields[11]), let st = Double(fields[12]) else { return 0 }
        return (u + st) / clockTicks
    }

    static func cpuSeconds(pids: [Int32]) -> Double { pids.reduce(0) { $0 + cpuSeconds(pid: $1) } }

    static func selfCPUSeconds() -> Double { cpuSeconds(pid: getpid()) }

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
