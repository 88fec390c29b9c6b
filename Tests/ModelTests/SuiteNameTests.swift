import Foundation
import Testing

/// Suite names are how a failure is found in a report and how `--filter` picks tests, so no
/// two suites of the package share one.
@Suite("suite names")
struct SuiteNameTests {
    @Test("no two suites in Tests/ share a display name")
    func unique() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let files = FileManager.default.enumerator(at: tests, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        var seen: [String: [String]] = [:]
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for m in text.matches(of: /@Suite\(\s*"([^"]*)"/) {
                seen[String(m.1), default: []].append(file.lastPathComponent)
            }
        }
        #expect(seen.count > 20, "found only \(seen.count) named suites under \(tests.path)")
        let shared = seen.filter { $0.value.count > 1 }
        #expect(shared.isEmpty, "\(shared)")
    }
}
