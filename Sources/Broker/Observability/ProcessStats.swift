import Foundation

/// This process's resource use, read from /proc (Linux); zero elsewhere.
enum ProcessStats {
    /// Resident set size in bytes (`VmRSS` of /proc/self/status).
    static func residentBytes() -> Int64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.dropFirst("VmRSS:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int64($0) } ?? 0
            return kb * 1024
        }
        return 0
    }
}
