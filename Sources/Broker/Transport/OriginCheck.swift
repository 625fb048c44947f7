/// `client.allowed_origins`: globs with `*`. A request without Origin (non-browser) is always allowed.
struct OriginCheck: Sendable {
    let patterns: [String]

    func allows(_ origin: String?) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        let o = origin.lowercased()
        return patterns.contains { OriginCheck.glob($0.lowercased(), matches: o) }
    }

    static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern.utf8)
        let t = Array(text.utf8)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count && p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
