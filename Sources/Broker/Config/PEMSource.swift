import Foundation

/// A PEM setting as Centrifugo v6 reads it: the PEM text itself, that text base64-encoded, or the path of a file
/// that holds it (tried in that order).
enum PEMSource {
    static func bytes(_ value: String, key: String) throws(TLSSetupError) -> [UInt8] {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("-----BEGIN") { return Array(value.utf8) }
        if let decoded = Data(base64Encoded: text), decoded.starts(with: Array("-----BEGIN".utf8)) { return Array(decoded) }
        guard let bytes = try? ConfigFile.readBytes(atPath: value) else {
            // A path is named in full; anything else is cut short (it may be a mangled key).
            let shown = value.count <= 1024 && !value.contains("\n") ? "\"\(value)\"" : ConfigMessage.quoted(value)
            throw TLSSetupError(key: key, message: "\(shown) is neither PEM text, base64-encoded PEM nor a file that can be read")
        }
        return bytes
    }
}
