import Foundation

/// Decodes a request body into a route's `Decodable` input, collecting every field problem instead of stopping at
/// the first one as `JSONDecoder` does: each missing field, wrong JSON type, malformed UUID and string holding a NUL
/// character is reported in the error's `fields` under its dotted path (`title`, `mentions.0`).
///
/// A missing, null or mistyped field, or a malformed UUID, makes a 400 `malformed_request`; when the only problems
/// are forbidden characters it is a 422 `validation_failed`. Unknown members are ignored.
enum BodyDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let root: JSONTree
        do {
            root = try JSONDecoder().decode(JSONTree.self, from: data)
        } catch {
            throw APIError.malformed(field: APIError.FieldError.wholeBody, .invalidJSON, "The body is not valid JSON.")
        }
        guard case .object = root else {
            throw APIError.malformed(field: APIError.FieldError.wholeBody, .wrongType, "The body must be a JSON object.")
        }
        let log = ProblemLog()
        let value = try T(from: TreeDecoder(value: root, codingPath: [], log: log))
        let problems = log.problems
        if problems.isEmpty { return value }
        if problems.allSatisfy({ $0.code == .forbiddenCharacter }) { throw APIError.validation(problems) }
        throw APIError.malformed(problems)
    }
}

/// A parsed JSON value.
enum JSONTree: Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONTree].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONTree].self))
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// The problems found while decoding one body (decoding is synchronous and single-threaded).
private final class ProblemLog {
    var problems: [APIError.FieldError] = []

    func add(_ path: [any CodingKey], _ code: FieldProblem, _ message: String) {
        let field = path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        problems.append(.init(field: field.isEmpty ? APIError.FieldError.wholeBody : field, code: code, message: message))
    }
}

private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { String(intValue ?? 0) }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// Values a field falls back to after a problem is logged, so that decoding goes on and finds the next one.
private protocol Placeholder { static var placeholder: Self { get } }
extension String: Placeholder { static var placeholder: String { "" } }
extension Bool: Placeholder { static var placeholder: Bool { false } }
extension Int: Placeholder { static var placeholder: Int { 0 } }
extension Double: Placeholder { static var placeholder: Double { 0 } }
extension UUID: Placeholder { static var placeholder: UUID { UUID(uuidString: "00000000-0000-0000-0000-000000000000")! } }

private struct TreeDecoder: Decoder {
    /// nil: the member is absent.
    let value: JSONTree?
    let codingPath: [any CodingKey]
    let log: ProblemLog
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        var members: [String: JSONTree] = [:]
        switch value {
        case .object(let object): members = object
        case nil, .null: log.add(codingPath, .required, "Required.")
        case let other?: log.add(codingPath, .wrongType, "Must be an object, not \(other.typeName).")
        }
        return KeyedDecodingContainer(KeyedTree<Key>(members: members, codingPath: codingPath, log: log))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        var elements: [JSONTree] = []
        switch value {
        case .array(let array): elements = array
        case nil, .null: log.add(codingPath, .required, "Required.")
        case let other?: log.add(codingPath, .wrongType, "Must be an array, not \(other.typeName).")
        }
        return UnkeyedTree(elements: elements, codingPath: codingPath, log: log)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleTree(decoder: self) }

    /// Decodes a scalar, or anything else through its own `init(from:)`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == UUID.self { return uuid() as! T }
        if T.self == String.self { return string() as! T }
        if T.self == Bool.self { return bool() as! T }
        if T.self == Int.self { return int() as! T }
        if T.self == Double.self { return double() as! T }
        return try T(from: self)
    }

    private func missing<T: Placeholder>() -> T {
        log.add(codingPath, .required, value == nil ? "Required." : "Must not be null.")
        return T.placeholder
    }

    private func mistyped<T: Placeholder>(_ expected: String, _ got: JSONTree) -> T {
        log.add(codingPath, .wrongType, "Must be \(expected), not \(got.typeName).")
        return T.placeholder
    }

    func string() -> String {
        switch value {
        case .string(let text):
            if text.unicodeScalars.contains("\u{0}") {
                log.add(codingPath, .forbiddenCharacter, "Must not contain NUL characters.")
            }
            return text
        case nil, .null: return missing()
        case let other?: return mistyped("a string", other)
        }
    }

    func uuid() -> UUID {
        switch value {
        case .string(let text):
            guard let id = UUID(uuidString: text) else {
                log.add(codingPath, .invalidFormat, "Must be a UUID.")
                return .placeholder
            }
            return id
        case nil, .null: return missing()
        case let other?: return mistyped("a UUID string", other)
        }
    }

    func bool() -> Bool {
        switch value {
        case .bool(let flag): return flag
        case nil, .null: return missing()
        case let other?: return mistyped("true or false", other)
        }
    }

    func int() -> Int {
        switch value {
        case .integer(let number) where Int64(Int32.min)...Int64(Int32.max) ~= number: return Int(number)
        case .integer:
            log.add(codingPath, .outOfRange, "Is out of range.")
            return .placeholder
        case nil, .null: return missing()
        case let other?: return mistyped("an integer", other)
        }
    }

    func double() -> Double {
        switch value {
        case .integer(let number): return Double(number)
        case .number(let number): return number
        case nil, .null: return missing()
        case let other?: return mistyped("a number", other)
        }
    }
}

private struct KeyedTree<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONTree]
    let codingPath: [any CodingKey]
    let log: ProblemLog

    var allKeys: [Key] { members.keys.compactMap(Key.init(stringValue:)) }
    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = members[key.stringValue] { return true }
        return members[key.stringValue] == nil
    }

    private func child(_ key: Key) -> TreeDecoder {
        TreeDecoder(value: members[key.stringValue], codingPath: codingPath + [key], log: log)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(T.self) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { child(key).bool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { child(key).string() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { child(key).double() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(child(key).double()) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { child(key).int() }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { Int8(clamping: child(key).int()) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { Int16(clamping: child(key).int()) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { Int32(clamping: child(key).int()) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { Int64(child(key).int()) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { UInt(clamping: child(key).int()) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { UInt8(clamping: child(key).int()) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { UInt16(clamping: child(key).int()) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { UInt32(clamping: child(key).int()) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { UInt64(clamping: child(key).int()) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { TreeDecoder(value: .object(members), codingPath: codingPath, log: log) }
    func superDecoder(forKey key: Key) throws -> any Decoder { child(key) }
}

private struct UnkeyedTree: UnkeyedDecodingContainer {
    let elements: [JSONTree]
    let codingPath: [any CodingKey]
    let log: ProblemLog
    var currentIndex = 0

    init(elements: [JSONTree], codingPath: [any CodingKey], log: ProblemLog) {
        self.elements = elements
        self.codingPath = codingPath
        self.log = log
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() -> TreeDecoder {
        defer { currentIndex += 1 }
        let value = currentIndex < elements.count ? elements[currentIndex] : nil
        return TreeDecoder(value: value, codingPath: codingPath + [IndexKey(intValue: currentIndex)], log: log)
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elements.count, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(T.self) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { next().bool() }
    mutating func decode(_ type: String.Type) throws -> String { next().string() }
    mutating func decode(_ type: Double.Type) throws -> Double { next().double() }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(next().double()) }
    mutating func decode(_ type: Int.Type) throws -> Int { next().int() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { Int8(clamping: next().int()) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { Int16(clamping: next().int()) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { Int32(clamping: next().int()) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { Int64(next().int()) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { UInt(clamping: next().int()) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(clamping: next().int()) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(clamping: next().int()) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(clamping: next().int()) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(clamping: next().int()) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { next() }
}

private struct SingleTree: SingleValueDecodingContainer {
    let decoder: TreeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        if case .null = decoder.value { return true }
        return decoder.value == nil
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(T.self) }
    func decode(_ type: Bool.Type) throws -> Bool { decoder.bool() }
    func decode(_ type: String.Type) throws -> String { decoder.string() }
    func decode(_ type: Double.Type) throws -> Double { decoder.double() }
    func decode(_ type: Float.Type) throws -> Float { Float(decoder.double()) }
    func decode(_ type: Int.Type) throws -> Int { decoder.int() }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(clamping: decoder.int()) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(clamping: decoder.int()) }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(clamping: decoder.int()) }
    func decode(_ type: Int64.Type) throws -> Int64 { Int64(decoder.int()) }
    func decode(_ type: UInt.Type) throws -> UInt { UInt(clamping: decoder.int()) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(clamping: decoder.int()) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(clamping: decoder.int()) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(clamping: decoder.int()) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(clamping: decoder.int()) }
}
