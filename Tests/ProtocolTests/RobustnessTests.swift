import Testing
@testable import BrokerProtocol

/// Randomized, seeded inputs: the decoder must only return or throw, never trap.
struct RobustnessTests {
    static let validCommands: [String] = [
        #"{"id":1,"connect":{"token":"eyJhbGciOiJIUzI1NiJ9.e30.sig","name":"js","data":{"a":[1,2]},"subs":{"news":{"recover":true,"epoch":"E","offset":17}},"headers":{"h":"v"}}}"#,
        #"{"id":2,"subscribe":{"channel":"chat:index","recover":true,"epoch":"ZlFdTbPq","offset":10,"flag":2,"delta":"fossil"}}"#,
        #"{"id":4,"history":{"channel":"chat:index","limit":2,"since":{"offset":10,"epoch":"ZlFdTbPq"},"reverse":true}}"#,
        #"{"id":5,"publish":{"channel":"chat:index","data":{"text":"hi \u00e9 \uD83D\uDE00","n":1.5e3}}}"#,
        #"{"id":6,"presence":{"channel":"chat:index"}}"#,
        #"{"id":7,"presence_stats":{"channel":"chat:index"}}"#,
        #"{"id":8,"rpc":{"method":"getUser","data":{"id":1}}}"#,
        #"{"send":{"data":{"any":"json"}}}"#,
        #"{"id":9,"refresh":{"token":"<JWT>"}}"#,
        #"{"id":10,"sub_refresh":{"channel":"c","token":"t"}}"#,
        #"{"id":11,"unsubscribe":{"channel":"c"}}"#,
        "{}",
    ]

    /// Runs the decoder and, when it succeeds, checks its output re-encodes as valid JSON.
    private func exercise(_ bytes: [UInt8]) {
        if let commands = try? Command.decodeJSONFrame(bytes) {
            #expect(!commands.isEmpty)
            for c in commands {
                var data: Payload?
                switch c.request {
                case .publish(let r): data = r.data
                case .rpc(let r): data = r.data
                case .send(let r): data = r.data
                case .connect(let r): data = r.data
                case .subscribe(let r): data = r.data
                default: break
                }
                if let data, !data.isEmpty {
                    #expect((try? JSONParser.parse(data.bytes)) != nil)
                }
            }
        }
        if let value = try? JSONParser.parse(bytes) {
            #expect((try? JSONParser.parse(value.serialized)) == value)
        }
    }

    @Test("10,000 random byte strings never crash the decoder")
    func randomBytes() {
        var rng = SeededGenerator(seed: 0xC0FFEE)
        // Bias towards JSON-significant bytes so inputs get past the first character.
        let alphabet = utf8(#"{}[]",:\ntfnul0123456789-+.eE"\u"#) + [0x00, 0x0A, 0x20, 0x7F, 0x80, 0xC3, 0xED, 0xFF]
        for _ in 0..<10_000 {
            let length = Int(rng.next() % 64)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(length)
            for _ in 0..<length {
                if rng.next() % 2 == 0 {
                    bytes.append(UInt8(truncatingIfNeeded: rng.next()))
                } else {
                    bytes.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
                }
            }
            exercise(bytes)
        }
    }

    @Test("10,000 random mutations of valid commands never crash the decoder")
    func mutatedCommands() {
        var rng = SeededGenerator(seed: 20_250_601)
        let seeds = Self.validCommands.map(utf8)
        let interesting: [UInt8] = utf8(#"{}[]",:\-0e.9 "#) + [0x00, 0x0A, 0x0D, 0x80, 0xFF]
        var decoded = 0
        for _ in 0..<10_000 {
            var bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let position = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 7 {
                case 0 where !bytes.isEmpty:  // flip a bit
                    bytes[position] ^= UInt8(1) << UInt8(rng.next() % 8)
                case 1 where !bytes.isEmpty:  // replace with an interesting byte
                    bytes[position] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 2:  // insert an interesting byte
                    bytes.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: position)
                case 3 where !bytes.isEmpty:  // delete a byte
                    bytes.remove(at: position)
                case 4:  // truncate
                    bytes.removeSubrange(position..<bytes.count)
                case 5:  // duplicate a chunk
                    let end = min(bytes.count, position + Int(rng.next() % 16))
                    bytes.insert(contentsOf: Array(bytes[position..<end]), at: position)
                default:  // join with another command as a multi-command frame
                    bytes += [0x0A] + seeds[Int(rng.next() % UInt64(seeds.count))]
                }
            }
            if (try? Command.decodeJSONFrame(bytes)) != nil { decoded += 1 }
            exercise(bytes)
        }
        // The mutations must leave some inputs valid, or the test exercises only the error paths.
        #expect(decoded > 100)
        #expect(decoded < 10_000)
    }

    @Test("Deeply nested data inside a command is rejected cleanly")
    func deepNesting() {
        for depth in [127, 128, 129, 1_000, 50_000] {
            let data = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            let doc = #"{"id":5,"publish":{"channel":"c","data":\#(data)}}"#
            // The command itself uses 2 levels, so data may be at most 126 deep.
            let result = try? command(doc)
            #expect((result != nil) == (depth <= 126), "depth \(depth)")
        }
    }

    @Test("Every valid seed command decodes, and so does their concatenation as one frame")
    func seedsAreValid() throws {
        for s in Self.validCommands { _ = try command(s) }
        let frame = utf8(Self.validCommands.joined(separator: "\n"))
        #expect(try Command.decodeJSONFrame(frame).count == Self.validCommands.count)
    }
}
