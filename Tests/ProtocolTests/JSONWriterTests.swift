import Testing
@testable import BrokerProtocol

struct JSONWriterTests {
    private func written(_ body: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        body(&w)
        return text(w.bytes)
    }

    @Test("Quotes and backslashes are escaped with a backslash")
    func quotesAndBackslash() {
        #expect(written { $0.string(#"a"b\c"#) } == #""a\"b\\c""#)
        #expect(written { $0.string(#"\""#) } == #""\\\"""#)
    }

    @Test("Control characters use their short escapes where JSON has one")
    func shortEscapes() {
        #expect(written { $0.string("\n\r\t\u{08}\u{0C}") } == #""\n\r\t\b\f""#)
    }

    @Test("Other control characters are written as lowercase \\u00XX")
    func controlEscapes() {
        #expect(written { $0.string("\u{0}") } == #""\u0000""#)
        #expect(written { $0.string("\u{01}x\u{1F}") } == #""\u0001x\u001f""#)
        #expect(written { $0.string("\u{0B}\u{1A}") } == #""\u000b\u001a""#)
        for b in UInt8(0)..<0x20 {
            let out = written { $0.string(String(UnicodeScalar(b))) }
            #expect(out.hasPrefix("\"\\"), "byte \(b) not escaped: \(out)")
        }
    }

    @Test("Non-ASCII text, DEL and the slash are written unescaped as UTF-8")
    func nonASCIIKept() {
        let s = "héllo €𝄞 😀 / \u{7F} \u{2028}"
        var w = JSONWriter()
        w.string(s)
        #expect(w.bytes == [0x22] + utf8(s) + [0x22])
    }

    @Test("The empty string is two quotes")
    func emptyString() {
        #expect(written { $0.string("") } == #""""#)
    }

    @Test("Escaped and plain runs alternate correctly in long strings")
    func mixedRuns() {
        #expect(written { $0.string("ab\"cd\\ef\ngh\u{01}") } == #""ab\"cd\\ef\ngh\u0001""#)
        #expect(written { $0.string("\"\"") } == #""\"\"""#)
    }

    @Test("Integers are written in decimal, including the extremes of each width")
    func integers() {
        #expect(written { $0.int(0) } == "0")
        #expect(written { $0.int(7) } == "7")
        #expect(written { $0.int(-1) } == "-1")
        #expect(written { $0.int(1_000_000) } == "1000000")
        #expect(written { $0.int(Int64.min) } == "-9223372036854775808")
        #expect(written { $0.int(Int64.max) } == "9223372036854775807")
        #expect(written { $0.int(UInt64.max) } == "18446744073709551615")
        #expect(written { $0.int(UInt32.max) } == "4294967295")
        #expect(written { $0.int(Int8.min) } == "-128")
        #expect(written { $0.int(UInt16(3501)) } == "3501")
    }

    @Test("Integers match Swift's own decimal rendering for many values")
    func integersMatchDescription() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            let v = Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)
            #expect(written { $0.int(v) } == String(v))
            let u = rng.next() >> (rng.next() % 64)
            #expect(written { $0.int(u) } == String(u))
        }
    }

    @Test("Booleans are true and false")
    func booleans() {
        #expect(written { $0.bool(true) } == "true")
        #expect(written { $0.bool(false) } == "false")
    }

    @Test("member writes a comma before every member but the first")
    func memberHelper() {
        let out = written { w in
            var first = true
            w.raw(UInt8(ascii: "{"))
            w.member("a", first: &first)
            w.int(1)
            #expect(first == false)
            w.member("b", first: &first)
            w.bool(true)
            w.raw(UInt8(ascii: "}"))
        }
        #expect(out == #"{"a":1,"b":true}"#)
        #expect(written { $0.key("k") } == #""k":"#)
    }

    @Test("Values serialize compactly with numbers verbatim and keys escaped")
    func values() {
        let v = JSONValue.object(
            JSONObject([
                ("n", .number("1.0")), ("big", .number("123456789012345678901234567890")),
                ("q\"k", .string("v\n")), ("a", .array([.null, .bool(false), .object(JSONObject([JSONObject.Member]()))])),
            ]))
        #expect(v.serializedString == #"{"n":1.0,"big":123456789012345678901234567890,"q\"k":"v\n","a":[null,false,{}]}"#)
        #expect(JSONValue.array([]).serializedString == "[]")
    }

    @Test("Any string survives writing and parsing back unchanged")
    func stringRoundTrip() throws {
        var rng = SeededGenerator(seed: 42)
        let pools: [ClosedRange<UInt32>] = [0...0x7F, 0x80...0x7FF, 0x800...0xD7FF, 0xE000...0xFFFF, 0x10000...0x10FFFF]
        for _ in 0..<1000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 20) {
                let pool = pools[Int(rng.next() % UInt64(pools.count))]
                let v = pool.lowerBound + UInt32(rng.next() % UInt64(pool.upperBound - pool.lowerBound + 1))
                s.unicodeScalars.append(Unicode.Scalar(v)!)
            }
            var w = JSONWriter()
            w.string(s)
            #expect(try JSONParser.parse(w.bytes) == .string(s))
        }
    }
}
