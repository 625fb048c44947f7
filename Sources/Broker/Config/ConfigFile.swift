#if canImport(BrokerProtocol)
import BrokerProtocol
#endif
#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reading the config file.
enum ConfigFile {
    /// A config file format, chosen by extension as Centrifugo does. Each format only has to turn the file's
    /// bytes into a `JSONValue` document; mapping keys to `BrokerConfig` is shared.
    enum Format: Equatable {
        case json
        case yaml
        case toml

        /// The format for `path`'s extension (`.json`, `.yaml`/`.yml`, `.toml`).
        static func forPath(_ path: String) throws(ConfigError) -> ConfigFile.Format {
            let fileName = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
            let ext = fileName.split(separator: ".", omittingEmptySubsequences: false).dropFirst().last?.lowercased() ?? ""
            switch ext {
            case "json": return .json
            case "yaml", "yml": return .yaml
            case "toml": return .toml
            case "":
                throw ConfigError(key: "", message: "config file \(path) has no extension; use a .json, .yaml, .yml or .toml file")
            default:
                throw ConfigError(key: "", message: "config file \(path) has unsupported extension .\(ext); use a .json, .yaml, .yml or .toml file")
            }
        }

        /// The document in `bytes`.
        func parse(_ bytes: [UInt8], path: String) throws(ConfigError) -> JSONValue {
            try parseWithLines(bytes, path: path).value
        }

        /// The document in `bytes` and, for YAML and TOML, the line of each value (JSON's map is empty).
        /// Syntax errors name the line and column.
        func parseWithLines(_ bytes: [UInt8], path: String) throws(ConfigError) -> ConfigDocument {
            switch self {
            case .json:
                do {
                    return ConfigDocument(value: try JSONParser.parse(bytes), lines: ConfigLineMap())
                } catch {
                    let (line, column) = lineAndColumn(of: error.offset, in: bytes)
                    throw ConfigError(
                        key: "", message: "\(path) is not valid JSON: \(error.message) at line \(line), column \(column)")
                }
            case .yaml:
                return try YAMLDocument.parse(try text(bytes, path: path, format: "YAML"), path: path)
            case .toml:
                return try TOMLDocument.parse(try text(bytes, path: path, format: "TOML"), path: path)
            }
        }

        /// The file as text; YAML and TOML files must be UTF-8 (a leading byte order mark is dropped).
        private func text(_ bytes: [UInt8], path: String, format: String) throws(ConfigError) -> String {
            let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
            guard let text = String(validating: body, as: UTF8.self) else {
                throw ConfigError(key: "", message: "\(path) is not valid \(format): it is not UTF-8 text")
            }
            return text
        }

        private func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
            var line = 1
            var column = 1
            for b in bytes.prefix(offset) {
                if b == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else if b & 0xC0 != 0x80 {  // count characters, not UTF-8 continuation bytes
                    column += 1
                }
            }
            return (line, column)
        }
    }

    /// Reads a whole file; failures name the path and the OS reason ("No such file or directory").
    static func readBytes(atPath path: String) throws(ConfigError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ConfigError(key: "", message: "cannot read config file \(path): \(osErrorText(errno))")
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw ConfigError(key: "", message: "cannot read config file \(path): \(osErrorText(code))")
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    private static func osErrorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
