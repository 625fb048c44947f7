/// How a publication is shaped for a subscriber that negotiated fossil delta compression.
///
/// Over JSON such a subscriber gets every publication's `data` as a JSON *string* (the client keeps the
/// bytes of the previous data as the base for the next patch), whether it is a patch (`delta: true`) or the
/// full data (`delta: false`); over Protobuf `data` is the bytes themselves. A patch is sent only when it is
/// smaller than the data it replaces.
public enum DeltaPublication {
    /// The full publication, in the form a delta subscriber expects (the first one after subscribing, or
    /// when there is no previous data to patch against). Nil when JSON cannot carry the data.
    public static func full(_ p: Publication, json: Bool) -> Publication? {
        guard json else { return p }
        guard let wrapped = jsonString(p.data.bytes) else { return nil }
        var out = p
        out.data = Payload(bytes: wrapped)
        out.delta = false
        return out
    }

    /// `p` as a fossil patch against the data of the publication before it, or in full when the patch would
    /// not be smaller (or, over JSON, is not valid UTF-8). `patch` is computed by the caller once per publication.
    public static func patched(_ p: Publication, patch: [UInt8], json: Bool) -> Publication? {
        if patch.count >= p.data.bytes.count { return full(p, json: json) }
        var out = p
        out.delta = true
        if json {
            // A patch that cuts a multi-byte character is not text: send the full data instead.
            guard let wrapped = jsonString(patch) else { return full(p, json: json) }
            out.data = Payload(bytes: wrapped)
        } else {
            out.data = Payload(bytes: patch, isBinary: true)
        }
        return out
    }

    /// Recovered publications for a delta subscriber: the first in full, each next one patched against the
    /// one before it (the client applies them in order).
    public static func recovered(_ pubs: [Publication], json: Bool) -> [Publication]? {
        var out: [Publication] = []
        out.reserveCapacity(pubs.count)
        for (i, p) in pubs.enumerated() {
            let shaped: Publication?
            if i == 0 {
                shaped = full(p, json: json)
            } else {
                shaped = patched(p, patch: FossilDelta.create(from: pubs[i - 1].data.bytes, to: p.data.bytes), json: json)
            }
            guard let shaped else { return nil }
            out.append(shaped)
        }
        return out
    }

    /// `bytes` as a JSON string literal (quotes included); nil when they are not UTF-8 (JSON strings carry
    /// text only). Fossil patches of UTF-8 data are UTF-8 except when a copy boundary splits a character.
    static func jsonString(_ bytes: [UInt8]) -> [UInt8]? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var w = JSONWriter()
        w.string(text)
        return w.bytes
    }
}
