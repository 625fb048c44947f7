// Fuzz target for the decoders that read untrusted bytes: client frames (JSON and Protobuf), the JSON parser
// and the fossil delta decoder. Which one runs is chosen by FUZZ_TARGET (json | protobuf | fossil | jsonvalue).
import BrokerProtocol

#if canImport(Glibc)
import Glibc
#endif

enum FuzzTarget: String {
    case json, protobuf, fossil, jsonvalue

    static let current: FuzzTarget = {
        guard let raw = getenv("FUZZ_TARGET").map({ String(cString: $0) }) else { return .json }
        guard let target = FuzzTarget(rawValue: raw) else { fatalError("FUZZ_TARGET must be json, protobuf, fossil or jsonvalue") }
        return target
    }()
}

/// Runs one input. Decoding may fail (that is the point); it must never crash, hang or break an invariant.
func fuzzOne(_ bytes: [UInt8]) {
    switch FuzzTarget.current {
    case .json:
        _ = try? Command.decodeJSONFrame(bytes)
    case .protobuf:
        _ = try? Command.decodeProtobufFrame(bytes)
    case .jsonvalue:
        // Whatever parses must print to JSON that parses back to the same value.
        if let value = try? JSONParser.parse(bytes) {
            let again = try? JSONParser.parse(value.serialized)
            precondition(again == value, "JSON round trip changed the value")
        }
    case .fossil:
        // First byte: how much of the input is the source; the rest is the delta. Applying must not crash,
        // and a delta we create must apply back.
        guard let split = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        let cut = min(body.count, Int(split) * body.count / 255)
        let source = Array(body[..<cut])
        let other = Array(body[cut...])
        _ = try? FossilDelta.apply(other, to: source)
        let delta = FossilDelta.create(from: source, to: other)
        precondition((try? FossilDelta.apply(delta, to: source)) == other, "fossil round trip failed")
    }
}

/// libFuzzer's entry point. Built with `swift build --sanitize=fuzzer --sanitize=address` (scripts/fuzz.sh),
/// libFuzzer provides `main`; in a plain build this file has no top-level code, so the program does nothing.
/// To replay a crashing input: `FUZZ_TARGET=json .build-fuzz/debug/ProtocolFuzz CRASH-FILE`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
