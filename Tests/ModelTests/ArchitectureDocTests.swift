import Foundation
import Testing

/// docs/ARCHITECTURE.md's diagram shows every room of Sources/ (the C shims aside) and draws
/// the arrows the way the imports go.
@Suite("the architecture diagram")
struct ArchitectureDocTests {
    @Test("every room is in the diagram, HDL before Cores")
    func rooms() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```\n"))
        let end = try #require(doc.range(of: "```\n", range: start.upperBound..<doc.endIndex))
        let diagram = String(doc[start.upperBound..<end.lowerBound])
        let rooms = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path)
            .filter { $0.first?.isUppercase == true && !["CMalloc", "CZlib"].contains($0) }
        #expect(rooms.count > 10)
        for room in rooms { #expect(diagram.contains(room), "\(room) is not in the diagram") }
        // Cores imports HDL: the arrow runs from HDL to Cores, never back.
        #expect(!diagram.contains("Cores (generators) ─▶ HDL"))
        #expect(diagram.contains("X ──▶ Y: Y imports X"))
    }

    @Test("SplitMix64 has one home, Model, wherever its home is named")
    func splitMix64() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("Sources/Model/Random.swift").path))
        for file in ["docs/ARCHITECTURE.md", "README.md", "Package.swift"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") where line.contains("SplitMix64") {
                #expect(!line.contains("Runtime") || line.contains("in Model"), "\(file): \(line)")
            }
        }
    }
}
