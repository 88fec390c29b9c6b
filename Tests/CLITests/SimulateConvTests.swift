import Foundation
import Testing
import TestTags

/// `simulate conv` as a user runs it: exit status, one-line errors, JSON that parses.
@Suite("simulate conv command", .tags(.verilator))
struct SimulateConvTests {
    static func run(_ arguments: [String]) throws -> GenerateRTLTests.Run {
        try GenerateRTLTests.run(["conv"] + arguments, tool: "simulate")
    }

    @Test("a bad flag value exits with status 2 and one line naming the flag", arguments: [
        (["--stride", "0"], "--stride"),
        (["--layer", "vgg16"], "--layer"),
        (["--sparsity", "1.5"], "--sparsity"),
        (["--filter-height", "9", "--analytic"], "--filter-height"),
        (["--dataflow", "nlr"], "--dataflow"),
        (["--rows", "x"], "--rows"),
        (["--layer", "alexnet-conv3", "--max-reduction", "1024", "--analytic"], "--max-reduction"),
    ])
    func badFlag(_ arguments: [String], _ flag: String) throws {
        let r = try Self.run(arguments)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(flag), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("--analytic --json for alexnet-conv1 parses and has positive counts and energy")
    func analyticJSON() throws {
        let r = try Self.run(["--layer", "alexnet-conv1", "--analytic", "--json", "--rows", "16", "--cols", "16"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let counts = try #require(object["analyticCounts"] as? [String: Int])
        for field in ["macs", "registerFileReads", "peToPE", "bufferReads", "bufferWrites", "dramReads", "dramWrites"] {
            #expect((counts[field] ?? 0) > 0, "\(field)")
        }
        #expect(object["macs"] as? Int == 105_415_200)
        let energy = try #require(object["energy"] as? [String: Any])
        #expect((energy["totalPJ"] as? Double ?? 0) > 0 && (energy["pJPerMAC"] as? Double ?? 0) > 0)
        #expect((object["cycles"] as? Int ?? 0) > 105_415_200 / 256)
    }

    @Test("--layer alexnet --analytic --json gives one object per CONV layer")
    func alexnetGroup() throws {
        let r = try Self.run(["--layer", "alexnet", "--analytic", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(array.compactMap { ($0["layer"] as? [String: Any])?["name"] as? String } == (1...5).map { "alexnet-conv\($0)" })
    }

    @Test("a tiny co-simulated OS layer exits 0 with zero mismatches")
    func tinyCosim() throws {
        let r = try Self.run(["--dataflow", "os", "--rows", "2", "--cols", "2", "--sparsity", "0.3"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("tiny"))
        let j = try Self.run(["--dataflow", "os", "--rows", "2", "--cols", "2", "--sparsity", "0.3", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        #expect(object["mismatches"] as? Int == 0)
        #expect(object["countsAgree"] as? Bool == true)
    }
}
