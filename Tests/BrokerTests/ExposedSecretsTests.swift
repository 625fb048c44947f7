import Broker
import SecretPolicy
import Testing

struct SecretPolicyTests {
    @Test("Empty, placeholder and short secrets are weak; a long random one is not")
    func weakness() {
        #expect(SecretPolicy.weakness(of: "", kind: .key) == "is empty")
        #expect(SecretPolicy.weakness(of: "change-me-api-key", kind: .key)?.hasPrefix("is a placeholder") == true)
        #expect(SecretPolicy.weakness(of: "CHANGE_ME", kind: .password)?.hasPrefix("is a placeholder") == true)
        #expect(SecretPolicy.weakness(of: "Secret", kind: .key)?.hasPrefix("is a placeholder") == true)
        #expect(SecretPolicy.weakness(of: "<your-secret>", kind: .key)?.hasPrefix("is a placeholder") == true)
        #expect(SecretPolicy.weakness(of: "k3y-of-20-characters", kind: .key) == "has 20 characters; at least 32 are needed")
        #expect(SecretPolicy.weakness(of: String(repeating: "a7", count: 16), kind: .key) == nil)
        #expect(SecretPolicy.weakness(of: "correct horse", kind: .password) == nil)
    }

    @Test("Loopback hosts are localhost, 127.0.0.0/8 and ::1; an empty host or 0.0.0.0 is every interface")
    func loopback() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            #expect(SecretPolicy.isLoopback(host: host), "\(host)")
        }
        for host in ["", "0.0.0.0", "::", "10.0.0.1", "127.0.0", "example.com", "127.0.0.1.example.com"] {
            #expect(!SecretPolicy.isLoopback(host: host), "\(host)")
        }
    }
}

struct ExposedSecretsTests {
    static let strong = String(repeating: "9f", count: 20)

    /// A config whose every secret is strong, on all interfaces.
    static func strongConfig() -> BrokerConfig {
        var c = BrokerConfig()
        c.client.token.hmacSecretKey = strong
        c.httpAPI.key = strong
        c.admin.enabled = true
        c.admin.password = "a long admin password"
        c.admin.secret = strong
        return c
    }

    @Test("Strong secrets on every interface start without a warning")
    func strongSecrets() throws {
        #expect(try ExposedSecrets.check(Self.strongConfig()).isEmpty)
    }

    @Test("A placeholder API key on 0.0.0.0 is refused with the key, its variable and how to make one")
    func placeholderOnAllInterfaces() {
        var c = Self.strongConfig()
        c.httpAPI.key = "change-me-api-key"
        #expect {
            _ = try ExposedSecrets.check(c)
        } throws: { error in
            let e = error as! UnsafeSecretsError
            return e.findings.map(\.key) == ["http_api.key"]
                && e.description.contains("listens on 0.0.0.0:8000")
                && e.description.contains("CENTRIFUGO_HTTP_API_KEY")
                && e.description.contains("broker genconfig")
        }
    }

    @Test("Every weak secret is named at once: token key, admin password and admin secret")
    func allAtOnce() {
        var c = Self.strongConfig()
        c.client.token.hmacSecretKey = "short"
        c.admin.password = "admin"
        c.admin.secret = ""
        #expect {
            _ = try ExposedSecrets.check(c)
        } throws: { error in
            (error as! UnsafeSecretsError).findings.map(\.key) == ["client.token.hmac_secret_key", "admin.password", "admin.secret"]
        }
    }

    @Test("On loopback the same secrets are warnings, and the broker starts")
    func loopbackWarns() throws {
        var c = Self.strongConfig()
        c.httpServer.address = "127.0.0.1"
        c.httpAPI.key = "change-me-api-key"
        c.admin.password = "short"
        let warnings = try ExposedSecrets.check(c)
        #expect(warnings.count == 2)
        #expect(warnings[0].hasPrefix("http_api.key is a placeholder"))
        #expect(warnings[1].hasPrefix("admin.password has 5 characters"))
    }

    @Test("An empty HMAC key turns HMAC tokens off and is fine; an empty API key is refused unless the API is off")
    func emptyKeys() throws {
        var c = Self.strongConfig()
        c.client.token.hmacSecretKey = ""
        #expect(try ExposedSecrets.check(c).isEmpty)
        c.httpAPI.key = ""
        #expect(ExposedSecrets.findings(in: c).map(\.key) == ["http_api.key"])
        c.httpAPI.disabled = true
        #expect(ExposedSecrets.findings(in: c).isEmpty)
    }

    @Test("The API key is judged by the internal port when there is one, and by the client port too with external")
    func internalPort() throws {
        var c = Self.strongConfig()
        c.httpAPI.key = "change-me"
        c.httpServer.internalPort = 9000
        c.httpServer.internalAddress = "127.0.0.1"
        #expect(try ExposedSecrets.check(c).count == 1)
        c.httpAPI.external = true
        #expect(ExposedSecrets.findings(in: c).first?.exposedOn == ["0.0.0.0:8000"])
    }

    @Test("A console that is off, or open by admin.insecure, has no password to judge")
    func adminOff() {
        var c = Self.strongConfig()
        c.admin.password = ""
        c.admin.insecure = true
        #expect(ExposedSecrets.findings(in: c).isEmpty)
        c.admin.insecure = false
        c.admin.enabled = false
        #expect(ExposedSecrets.findings(in: c).isEmpty)
    }
}
