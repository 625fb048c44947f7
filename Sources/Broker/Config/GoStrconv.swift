/// The parts of Go's `strconv` that Centrifugo's env layer uses to read values.
enum GoStrconv {
    /// Go's `strconv.ParseBool`.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }

    /// Go's `strconv.ParseInt(text, 0, 64)`: optional sign, then decimal, `0x` hex, `0o` or leading-`0` octal,
    /// or `0b` binary, with `_` allowed between digits.
    static func parseInt(_ text: String) -> Int64? {
        var rest = Substring(text)
        var negative = false
        if let first = rest.first, first == "+" || first == "-" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        var radix: UInt64 = 10
        var hadPrefix = false
        let lower = rest.lowercased()
        if lower.hasPrefix("0x") {
            radix = 16; rest = rest.dropFirst(2); hadPrefix = true
        } else if lower.hasPrefix("0o") {
            radix = 8; rest = rest.dropFirst(2); hadPrefix = true
        } else if lower.hasPrefix("0b") {
            radix = 2; rest = rest.dropFirst(2); hadPrefix = true
        } else if rest.count > 1, rest.first == "0" {
            radix = 8; rest = rest.dropFirst(); hadPrefix = true
        }

        var magnitude: UInt64 = 0
        var sawDigit = false
        // An underscore must follow a digit or the base prefix, and be followed by a digit.
        var afterDigitOrPrefix = hadPrefix
        var afterUnderscore = false
        for ch in rest {
            if ch == "_" {
                guard afterDigitOrPrefix else { return nil }
                afterDigitOrPrefix = false
                afterUnderscore = true
                continue
            }
            guard let digit = ch.hexDigitValue, UInt64(digit) < radix else { return nil }
            let (times, o1) = magnitude.multipliedReportingOverflow(by: radix)
            let (sum, o2) = times.addingReportingOverflow(UInt64(digit))
            guard !o1, !o2 else { return nil }
            magnitude = sum
            sawDigit = true
            afterDigitOrPrefix = true
            afterUnderscore = false
        }
        guard sawDigit, !afterUnderscore else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
