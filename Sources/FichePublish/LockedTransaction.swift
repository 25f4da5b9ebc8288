import Foundation

extension PostgresConnection {
    /// Runs `body` in one durable transaction that first takes ACCESS EXCLUSIVE locks on
    /// `tables(self)` (so no reader's statement straddles the change). The locks are asked
    /// for with a short lock_timeout; on a timeout the transaction rolls back and is retried
    /// after a jittered pause, so readers never deadlock with us and never wait long.
    func withExclusiveTableLocks(_ tables: (PostgresConnection) throws -> [String], _ body: () throws -> Void) throws {
        var attempt = 0
        var rng = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            do {
                try execute("BEGIN")
                try execute("SET LOCAL lock_timeout = '500ms'")
                try execute("SET LOCAL synchronous_commit = on")  // the change itself is durable
                let names = try tables(self)
                if !names.isEmpty {
                    try execute("LOCK TABLE \(names.joined(separator: ", ")) IN ACCESS EXCLUSIVE MODE")
                }
                try execute("SET LOCAL lock_timeout = 0")
                try body()
                try execute("COMMIT")
                return
            } catch let e as PublishError where e.sqlState == "55P03" && attempt < 40 {
                try? execute("ROLLBACK")
                Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.3, using: &rng))
            }
        }
    }
}
