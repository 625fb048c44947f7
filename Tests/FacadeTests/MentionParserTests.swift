import Testing

@testable import Facade

/// `@name` parsing and the mention handle (pure).
@Suite("Mention parsing")
struct MentionParserTests {
    @Test("an @name is letters, digits, _ . -; a sentence's trailing punctuation is not part of it; each handle once, in order")
    func grammar() {
        #expect(MentionParser.handles(in: "@grace thanks! cc @Alan.Turing, @grace and @GRACE.") == ["grace", "alanturing"])
        #expect(MentionParser.handles(in: "(@ada) @ada_lovelace- @ada-lovelace") == ["ada", "adalovelace"])
        #expect(MentionParser.handles(in: "@zoë2 and @Zoë2") == ["zoë2"])
    }

    @Test("an @ inside a word (an email address), a bare @ or @@ mentions nobody")
    func notMentions() {
        #expect(MentionParser.handles(in: "mail grace@example.com or @ alone, @@x, @... and @-") == [])
    }

    @Test("a text names at most 50 handles")
    func bounded() {
        let text = (0..<80).map { "@member\($0)" }.joined(separator: " ")
        #expect(MentionParser.handles(in: text).count == MentionParser.maximumHandles)
    }

    @Test("a member's handle is their display name's letters and digits, lowercased")
    func handle() {
        #expect(MentionHandle.normalize("Grace Hopper") == "gracehopper")
        #expect(MentionHandle.normalize("O'Brien") == "obrien")
        #expect(MentionHandle.normalize("Zoë 2") == "zoë2")
        #expect(MentionHandle.normalize("!!!") == "")
    }
}
