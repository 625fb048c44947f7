/// Go's `time.ParseDuration` / `time.Duration.String()` text format, which Centrifugo uses for every
/// duration in its config (`"25s"`, `"1m30s"`, `"720h"`, `"500ms"`, `"1h2m3.5s"`).
///
/// Values are kept in nanoseconds in a signed 64-bit integer, as in Go, so the same inputs overflow.

/// Nanoseconds per unit suffix accepted by Go (`µs` with U+00B5 MICRO SIGN and `μs` with U+03BC GREEK MU).
private let goDurationUnits: [String: UInt64] = [
    "ns": 1,
    "us": 1_000,
    "\u{00B5}s": 1_000,
    "\u{03BC}s": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
]

/// Parses a Go duration string: an optional sign, then one or more `<decimal><unit>` parts
/// (`"1h2m3.5s"`, `"-1.5h"`, `".5s"`), or the bare `"0"`. Returns nil for anything Go would reject,
/// including a number without a unit (`"25"`) and values beyond ±292 years.
public func parseGoDuration(_ text: String) -> Duration? {
    var bytes = Array(text.utf8)[...]
    var negative = false
    if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
        negative = first == UInt8(ascii: "-")
        bytes = bytes.dropFirst()
    }
    if bytes.elementsEqual("0".utf8) { return .zero }
    if bytes.isEmpty { return nil }

    let limit = UInt64(Int64.max)
    var total: UInt64 = 0
    while !bytes.isEmpty {
        guard let part = parseDurationPart(&bytes) else { return nil }
        let (sum, overflow) = total.addingReportingOverflow(part)
        guard !overflow, sum <= limit + (negative ? 1 : 0) else { return nil }
        total = sum
    }
    if negative {
        return total == limit + 1 ? .nanoseconds(Int64.min) : .nanoseconds(-Int64(total))
    }
    return .nanoseconds(Int64(total))
}

/// Reads one `<decimal><unit>` part and returns its length in nanoseconds (nil when malformed or too large).
private func parseDurationPart(_ bytes: inout ArraySlice<UInt8>) -> UInt64? {
    guard let first = bytes.first, isDecimalDigit(first) || first == UInt8(ascii: ".") else { return nil }
    let limit = UInt64(Int64.max) + 1

    var whole: UInt64 = 0
    var sawWholeDigits = false
    while let b = bytes.first, isDecimalDigit(b) {
        let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
        let (next, o2) = times10.addingReportingOverflow(UInt64(b - 0x30))
        guard !o1, !o2, next <= limit else { return nil }
        whole = next
        sawWholeDigits = true
        bytes = bytes.dropFirst()
    }

    // Fraction digits beyond what fits are ignored, as Go does; precision is limited by the Double below.
    var fraction: UInt64 = 0
    var scale: Double = 1
    var sawFractionDigits = false
    if bytes.first == UInt8(ascii: ".") {
        bytes = bytes.dropFirst()
        var overflowed = false
        while let b = bytes.first, isDecimalDigit(b) {
            sawFractionDigits = true
            if !overflowed {
                if fraction > (UInt64(Int64.max) - 9) / 10 {
                    overflowed = true
                } else {
                    fraction = fraction * 10 + UInt64(b - 0x30)
                    scale *= 10
                }
            }
            bytes = bytes.dropFirst()
        }
    }
    guard sawWholeDigits || sawFractionDigits else { return nil }

    var unitBytes: [UInt8] = []
    while let b = bytes.first, !isDecimalDigit(b), b != UInt8(ascii: ".") {
        unitBytes.append(b)
        bytes = bytes.dropFirst()
    }
    guard !unitBytes.isEmpty, let unit = goDurationUnits[String(decoding: unitBytes, as: UTF8.self)] else { return nil }

    let (wholeNanos, overflow) = whole.multipliedReportingOverflow(by: unit)
    guard !overflow, wholeNanos <= limit else { return nil }
    var nanos = wholeNanos
    if fraction > 0 {
        let extra = Double(fraction) * (Double(unit) / scale)
        guard extra < Double(limit) else { return nil }
        let (sum, o) = nanos.addingReportingOverflow(UInt64(extra))
        guard !o, sum <= limit else { return nil }
        nanos = sum
    }
    return nanos
}

@inline(__always)
private func isDecimalDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

/// Formats a duration as Go's `time.Duration.String()` does: `"0s"`, `"500ms"`, `"1.5µs"`, `"25s"`,
/// `"1m30s"`, `"720h0m0s"`. Sub-nanosecond parts are dropped; values beyond Go's range (±292 years)
/// are clamped to it.
public func formatGoDuration(_ d: Duration) -> String {
    let nanos = clampedNanoseconds(d)
    if nanos == 0 { return "0s" }
    let negative = nanos < 0
    let magnitude = nanos.magnitude
    let body: String
    if magnitude < 1_000 {
        body = "\(magnitude)ns"
    } else if magnitude < 1_000_000 {
        body = decimalText(magnitude, fractionDigits: 3) + "\u{00B5}s"
    } else if magnitude < 1_000_000_000 {
        body = decimalText(magnitude, fractionDigits: 6) + "ms"
    } else {
        let wholeSeconds = magnitude / 1_000_000_000
        let secondsText = decimalText(magnitude % 60_000_000_000, fractionDigits: 9) + "s"
        let minutes = wholeSeconds / 60
        if minutes == 0 {
            body = secondsText
        } else if minutes < 60 {
            body = "\(minutes)m" + secondsText
        } else {
            body = "\(minutes / 60)h\(minutes % 60)m" + secondsText
        }
    }
    return negative ? "-" + body : body
}

/// `value / 10^fractionDigits` in decimal, without trailing zeros in the fraction (and without a lone ".").
private func decimalText(_ value: UInt64, fractionDigits: Int) -> String {
    var divisor: UInt64 = 1
    for _ in 0..<fractionDigits { divisor *= 10 }
    let whole = value / divisor
    var fraction = value % divisor
    if fraction == 0 { return "\(whole)" }
    var digits = fractionDigits
    while fraction % 10 == 0 {
        fraction /= 10
        digits -= 1
    }
    let fractionText = String(fraction)
    return "\(whole)." + String(repeating: "0", count: digits - fractionText.count) + fractionText
}

/// The duration in whole nanoseconds (truncated toward zero), clamped to the Int64 range.
private func clampedNanoseconds(_ d: Duration) -> Int64 {
    let (seconds, attoseconds) = d.components
    let maxSeconds = Int64.max / 1_000_000_000
    if seconds > maxSeconds { return Int64.max }
    if seconds < -maxSeconds { return Int64.min }
    let (total, overflow) = (seconds * 1_000_000_000).addingReportingOverflow(attoseconds / 1_000_000_000)
    if overflow { return seconds > 0 ? Int64.max : Int64.min }
    return total
}
