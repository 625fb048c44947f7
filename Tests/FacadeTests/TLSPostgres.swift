#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// A throwaway TLS-only PostgreSQL cluster for one test: `scripts/pg-start.sh DIR --tls` (a test CA, a server
/// certificate for `localhost` only, `hostssl` only in pg_hba.conf), stopped and deleted afterwards.
struct TLSPostgres: Sendable {
    let directory: URL
    let port: Int
    /// The CA that signed the server's certificate.
    var caPath: String { directory.appendingPathComponent("tls/ca.crt").path }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    func url(host: String = "127.0.0.1", database: String = "postgres", _ query: String) -> String {
        "postgres://postgres@\(host):\(port)/\(database)?\(query)"
    }

    /// Runs `body` with a started cluster; always stops it.
    static func with<R: Sendable>(_ body: @Sendable (TLSPostgres) async throws -> R) async throws -> R {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("facade-tls-pg-\(UUID().uuidString.prefix(8))")
        let cluster: TLSPostgres
        do {
            let output = try await run("bash", [script("pg-start.sh"), directory.path, "--tls"])
            let port = try #require(output.split(separator: ":").last.flatMap { Int($0.split(separator: "/").first ?? "") })
            cluster = TLSPostgres(directory: directory, port: port)
        } catch {
            _ = try? await run("bash", [script("pg-stop.sh"), directory.path, "--purge"])
            throw error
        }
        do {
            let result = try await body(cluster)
            _ = try await run("bash", [script("pg-stop.sh"), directory.path, "--purge"])
            return result
        } catch {
            _ = try? await run("bash", [script("pg-stop.sh"), directory.path, "--purge"])
            throw error
        }
    }

    static func script(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("scripts/\(name)").path
    }

    struct CommandFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs a command to its end (on a thread of its own, not the concurrency pool's); its stdout, or
    /// ``CommandFailed`` with its stderr. posix_spawn and waitpid, since Foundation's `Process` does not always
    /// see its children end in this test process.
    @discardableResult
    static func run(_ command: String, _ arguments: [String]) async throws -> String {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cmd-\(UUID().uuidString.prefix(8))")
        let outPath = scratch.path + ".out"
        let errPath = scratch.path + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let argv = ["/usr/bin/env", command] + arguments
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try spawnAndWait(argv, stdout: outPath, stderr: errPath) })
            }
        }
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            throw CommandFailed(description: "\(command) \(arguments.joined(separator: " ")) exited \(status): \(err)")
        }
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Blocks the calling thread until the command ends; its exit status.
    static func spawnAndWait(_ argv: [String], stdout: String, stderr: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw CommandFailed(description: "cannot start \(argv[1]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw CommandFailed(description: "waitpid failed: errno \(errno)") }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as functions.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// A CA of its own that signed nothing the server holds, as a PEM file in `directory`.
    static func unrelatedCA(in directory: URL) async throws -> String {
        let path = directory.appendingPathComponent("other-ca.crt").path
        try await run("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=unrelated-ca",
            "-keyout", directory.appendingPathComponent("other-ca.key").path, "-out", path,
        ])
        return path
    }
}
