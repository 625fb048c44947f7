import Testing
@testable import BrokerProtocol

struct JSONParserTests {
    // MARK: Value kinds

    @Test("Every JSON value kind parses into the matching JSONValue case")
    func valueKinds() throws {
        #expect(try parsed("null") == .null)
        #expect(try parsed("true") == .bool(true))
        #expect(try parsed("false") == .bool(false))
        #expect(try parsed("42") == .number("42"))
        #expect(try parsed("\"hi\"") == .string("hi"))
        #expect(try parsed("[]") == .array([]))
        #expect(try parsed("{}") == .object(JSONObject([JSONObject.Member]())))
        #expect(
            try parsed(#"[null,true,false,0,"s",[1],{"k":"v"}]"#)
                == .array([
                    .null, .bool(true), .bool(false), .number("0"), .string("s"), .array([.number("1")]),
                    .object(JSONObject([("k", .string("v"))])),
                ]))
    }

    @Test("Object members keep their document order")
    func objectOrder() throws {
        let v = try parsed(#"{"z":1,"a":2,"m":3}"#)
        let o = try #require(v.objectValue)
        #expect(o.keys == ["z", "a", "m"])
        #expect(v.serializedString == #"{"z":1,"a":2,"m":3}"#)
    }

    @Test("Accessors return the payload only for the matching kind")
    func accessors() throws {
        let v = try parsed(#"{"s":"x","b":true,"n":7,"a":[1],"o":{},"z":null}"#)
        #expect(v["s"]?.stringValue == "x")
        #expect(v["b"]?.boolValue == true)
        #expect(v["n"]?.int64Value == 7)
        #expect(v["n"]?.uint64Value == 7)
        #expect(v["n"]?.doubleValue == 7)
        #expect(v["a"]?.arrayValue == [.number("1")])
        #expect(v["o"]?.objectValue?.isEmpty == true)
        #expect(v["z"]?.isNull == true)
        #expect(v["missing"] == nil)
        #expect(v["s"]?.boolValue == nil)
        #expect(v["n"]?.stringValue == nil)
        #expect(v["b"]?.int64Value == nil)
        #expect(v["s"]?.objectValue == nil)
        #expect(JSONValue.array([])["k"] == nil)
        #expect(v["o"]?.kindName == "object")
        #expect(v["a"]?.kindName == "array")
        #expect(v["z"]?.kindName == "null")
        #expect(v["b"]?.kindName == "boolean")
        #expect(v["n"]?.kindName == "number")
        #expect(v["s"]?.kindName == "string")
    }

    // MARK: Numbers

    @Test(
        "Numbers keep their literal text",
        arguments: [
            "0", "-0", "1.0", "-1.50", "1e400", "-1e-400", "1E+2", "2.5e-3", "123456789012345678901234567890",
            "-99999999999999999999999", "18446744073709551616", "0.000000000000000000001",
        ])
    func numberLiteralText(_ literal: String) throws {
        #expect(try parsed(literal) == .number(literal))
        #expect(try parsed("[\(literal)]").serializedString == "[\(literal)]")
    }

    @Test("Integer accessors convert only integers that fit the type")
    func integerAccessors() throws {
        #expect(try parsed("-9223372036854775808").int64Value == Int64.min)
        #expect(try parsed("9223372036854775807").int64Value == Int64.max)
        #expect(try parsed("9223372036854775808").int64Value == nil)
        #expect(try parsed("18446744073709551615").uint64Value == UInt64.max)
        #expect(try parsed("18446744073709551616").uint64Value == nil)
        #expect(try parsed("-1").uint64Value == nil)
        #expect(try parsed("3.0").int64Value == 3)
        #expect(try parsed("1e2").uint64Value == 100)
        #expect(try parsed("1.5").int64Value == nil)
        #expect(try parsed("1.5").uint64Value == nil)
        #expect(try parsed("1e400").int64Value == nil)
        #expect(try parsed("1e400").uint64Value == nil)
        #expect(try parsed("-0").uint64Value == 0)
        #expect(try parsed("1.5").doubleValue == 1.5)
    }

    // MARK: Strings

    @Test("Every escape sequence decodes, including surrogate pairs and NUL")
    func escapes() throws {
        let v = try parsed(#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\uD83D\uDE00\u0000x""#)
        #expect(v == .string("\"\\/\u{08}\u{0C}\n\r\tAé€😀\u{0}x"))
    }

    @Test("Escapes mixed with plain text keep the surrounding bytes")
    func escapesInsideText() throws {
        #expect(try parsed(#""ab\ncd\u0065f""#) == .string("ab\ncdef"))
        #expect(try parsed(#""\u00e9t\u00e9 😀 ok""#) == .string("été 😀 ok"))
        #expect(try parsed(#""😀\t""#) == .string("😀\t"))
    }

    @Test("Hex digits in \\u escapes may be upper or lower case")
    func hexCase() throws {
        #expect(try parsed(#""\u00E9\u00e9\uD83d\uDe00""#) == .string("éé😀"))
    }

    @Test("Raw multi-byte UTF-8 in strings is accepted unchanged")
    func rawUTF8() throws {
        #expect(try parsed("\"héllo €𝄞 😀\"") == .string("héllo €𝄞 😀"))
        #expect(try parsed("{\"ключ\":\"значение\"}")["ключ"] == .string("значение"))
    }

    @Test("DEL (0x7F) is not a control character in JSON and is accepted raw")
    func delAccepted() throws {
        #expect(try parsed([0x22, 0x7F, 0x22]) == .string("\u{7F}"))
    }

    // MARK: Duplicates and whitespace

    @Test("With duplicate keys the subscript returns the last one, and both members are kept")
    func duplicateKeys() throws {
        let v = try parsed(#"{"a":1,"b":2,"a":3}"#)
        #expect(v["a"] == .number("3"))
        #expect(v.objectValue?.members.count == 3)
    }

    @Test("Setting a key through the subscript replaces every duplicate; setting nil removes it")
    func objectSubscriptSet() throws {
        var o = try #require(try parsed(#"{"a":1,"b":2,"a":3}"#).objectValue)
        o["a"] = .string("x")
        #expect(o.keys == ["b", "a"])
        #expect(o["a"] == .string("x"))
        o["b"] = nil
        #expect(o.keys == ["a"])
    }

    @Test("The four JSON whitespace characters are allowed around every token")
    func whitespace() throws {
        let v = try parsed(" \t\r\n{ \"a\" :\t[ 1 ,\r\n2 ] , \"b\"\n:\ttrue }\n\t ")
        #expect(v == .object(JSONObject([("a", .array([.number("1"), .number("2")])), ("b", .bool(true))])))
        #expect(try parsed("  [ ]  ") == .array([]))
        #expect(try parsed("\n{\n}\n") == .object(JSONObject([JSONObject.Member]())))
    }

    @Test("Nesting up to 128 levels is accepted")
    func depthLimitAccepted() throws {
        let doc = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        var v = try parsed(doc)
        var depth = 0
        while case .array(let items) = v, let first = items.first {
            v = first
            depth += 1
        }
        #expect(depth == 127)
        let objects = String(repeating: "{\"a\":", count: 127) + "{}" + String(repeating: "}", count: 127)
        _ = try parsed(objects)
    }

    @Test("128 nested arrays are accepted whether the innermost one is empty or holds a scalar")
    func depthLimitCountsContainersOnly() throws {
        let doc = String(repeating: "[", count: 128) + "1" + String(repeating: "]", count: 128)
        _ = try parsed(doc)
    }

    // MARK: Rejections

    @Test("Nesting deeper than 128 levels is rejected at the offending byte")
    func depthLimitRejected() {
        let doc = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(doc) }
        #expect(error?.offset == 128)
        let objects = String(repeating: "{\"a\":", count: 129) + "1" + String(repeating: "}", count: 129)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(objects) }
        // Hostile depth must fail cleanly, not overflow the stack.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(hostile) }
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var offset: Int
        var testDescription: String { name }
        init(_ name: String, _ text: String, at offset: Int) {
            self.name = name
            self.bytes = Array(text.utf8)
            self.offset = offset
        }
        init(_ name: String, bytes: [UInt8], at offset: Int) {
            self.name = name
            self.bytes = bytes
            self.offset = offset
        }
    }

    static let invalidDocuments: [Invalid] = [
        Invalid("empty input", "", at: 0),
        Invalid("only whitespace", " \n ", at: 3),
        Invalid("trailing garbage", #"{"a":1} x"#, at: 8),
        Invalid("two values", "1 2", at: 2),
        Invalid("leading zero", "01", at: 1),
        Invalid("negative leading zero", "-01", at: 2),
        Invalid("leading zero in array", "[01]", at: 2),
        Invalid("lone minus", "-", at: 1),
        Invalid("minus without digit", "-a", at: 1),
        Invalid("plus sign", "+1", at: 0),
        Invalid("leading dot", ".5", at: 0),
        Invalid("trailing dot", "1.", at: 2),
        Invalid("dot without fraction", "1.e5", at: 2),
        Invalid("empty exponent", "1e", at: 2),
        Invalid("signed empty exponent", "1e+", at: 3),
        Invalid("NaN literal", "NaN", at: 0),
        Invalid("Infinity literal", "Infinity", at: 0),
        Invalid("hex number", "0x10", at: 1),
        Invalid("lone high surrogate", #""\uD800""#, at: 7),
        Invalid("lone low surrogate", #""\uDC00""#, at: 7),
        Invalid("high surrogate followed by non-surrogate", #""\uD800\u0041""#, at: 13),
        Invalid("high surrogate followed by high surrogate", #""\uD83D\uD83D""#, at: 13),
        Invalid("high surrogate followed by other escape", #""\uD800\n""#, at: 7),
        Invalid("high surrogate then text", #""\uD800abc""#, at: 7),
        Invalid("raw control character", "\"a\u{01}b\"", at: 2),
        Invalid("raw newline in string", "\"a\nb\"", at: 2),
        Invalid("raw tab after an escape", "\"\\n\tb\"", at: 3),
        Invalid("raw NUL in string", "\"\u{0}\"", at: 1),
        Invalid("unterminated string", #""abc"#, at: 4),
        Invalid("unterminated string after escape", #""a\n"#, at: 4),
        Invalid("string ends in backslash", #""a\"#, at: 3),
        Invalid("unterminated object", #"{"a":1"#, at: 6),
        Invalid("unterminated array", "[1,2", at: 4),
        Invalid("bad literal", "tru", at: 0),
        Invalid("misspelled literal", "trux", at: 0),
        Invalid("literal case", "True", at: 0),
        Invalid("null typo", "nul", at: 0),
        Invalid("false typo", "falsy", at: 0),
        Invalid("invalid escape", #""\x""#, at: 3),
        Invalid("short unicode escape", #""\u12""#, at: 3),
        Invalid("non-hex unicode escape", #""\u12G4""#, at: 5),
        Invalid("single-quoted string", "'a'", at: 0),
        Invalid("unquoted key", "{a:1}", at: 1),
        Invalid("missing colon", #"{"a" 1}"#, at: 5),
        Invalid("trailing comma in object", #"{"a":1,}"#, at: 7),
        Invalid("trailing comma in array", "[1,]", at: 3),
        Invalid("missing comma", "[1 2]", at: 3),
        Invalid("leading comma", "[,1]", at: 1),
        Invalid("comment", "[1]//", at: 3),
        Invalid("form feed is not whitespace", "\u{0C}1", at: 0),
        Invalid("non-breaking space is not whitespace", "\u{A0}1", at: 0),
        Invalid("invalid UTF-8 byte in string", bytes: [0x22, 0xFF, 0x22], at: 1),
        Invalid("truncated UTF-8 sequence", bytes: [0x5B, 0x22, 0x6F, 0x6B, 0x22, 0x2C, 0x22, 0xC3, 0x28, 0x22, 0x5D], at: 7),
        Invalid("overlong UTF-8 encoding", bytes: [0x22, 0xC0, 0xAF, 0x22], at: 1),
        Invalid("UTF-8 encoded surrogate", bytes: [0x22, 0xED, 0xA0, 0x80, 0x22], at: 1),
        Invalid("invalid UTF-8 after an escape", bytes: [0x22, 0x5C, 0x6E, 0xFE, 0x22], at: 1),
        Invalid("invalid UTF-8 in a key", bytes: [0x7B, 0x22, 0x80, 0x22, 0x3A, 0x31, 0x7D], at: 2),
        Invalid("invalid byte outside strings", bytes: [0x5B, 0xFF, 0x5D], at: 1),
        Invalid("UTF-8 byte order mark", bytes: [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], at: 0),
    ]

    @Test("Invalid JSON is rejected with the byte offset of the problem", arguments: invalidDocuments)
    func rejected(_ doc: Invalid) {
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(doc.bytes) }
        #expect(error?.offset == doc.offset, "\(error?.description ?? "")")
    }

    @Test("A parse error describes itself with its message and offset")
    func errorDescription() {
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse("01") }
        #expect(error?.description == "unexpected data after JSON value at byte 1")
    }

    @Test("Parsing works from any byte collection, not only arrays")
    func parsesSlices() throws {
        let bytes = utf8(#"xx{"a":1}yy"#)
        #expect(try JSONParser.parse(bytes[2..<9])["a"] == .number("1"))
    }

    // MARK: Round trip

    static let roundTripDocuments: [String] = [
        "null", "true", "false", "0", "-0", "1.0", "1e400", "-1.5E-7", "123456789012345678901234567890",
        #""""#, #""plain""#, #""\"\\\/\b\f\n\r\t""#, #""\u0000\u001f\u007f""#, #""\uD83D\uDE00 é €""#,
        "[]", "{}", "[[[]]]", #"{"a":{"b":{"c":[1,{"d":null}]}}}"#,
        #"{"z":1,"a":2,"z":3}"#,
        #"{"id":2,"subscribe":{"recoverable":true,"epoch":"ZlFdTbPq","publications":[{"data":{"text":"a"},"offset":11}],"recovered":true,"offset":10,"positioned":true,"was_recovering":true}}"#,
        " [ 1 , \"a\" , { \"k\" : [ true , false , null ] } ] ",
        "{\"ключ\":\"значение\",\"emoji\":\"😀\"}",
        "[" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "]",
    ]

    @Test("Parse, serialize and parse again gives an equal value", arguments: roundTripDocuments)
    func roundTrip(_ doc: String) throws {
        let first = try parsed(doc)
        let again = try parsed(first.serialized)
        #expect(again == first)
        // Serialization is canonical: a second pass changes nothing.
        #expect(again.serialized == first.serialized)
    }

    @Test("Compact documents serialize back to the same bytes")
    func compactIsStable() throws {
        for doc in [
            #"{"z":1,"a":[1.0,-0,1e400],"m":{"k":"v"}}"#, #"[null,true,false,"x"]"#,
            #"{"a":{"b":{}},"c":[]}"#,
        ] {
            #expect(try parsed(doc).serializedString == doc)
        }
    }
}
