import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing, run off the cooperative thread pool because it is deliberately slow.
public struct Passwords: Sendable {
    /// bcrypt cost factor; tests lower it to keep suites fast.
    public let cost: UInt8

    /// A hash of a random password at the same cost, checked when the email is unknown,
    /// so sign-in takes as long for unknown emails as for known ones.
    let unknownUserHash: String

    public init(cost: UInt8 = 12) {
        self.cost = cost
        self.unknownUserHash = Bcrypt.hash("unknown-user-\(UInt64.random(in: 0...UInt64.max))", cost: cost)
    }

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
