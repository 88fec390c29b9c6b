import CZlib
import Foundation
@testable import Networks
import Testing
import TestTags

/// Reading Fashion-MNIST: the real files (installed by `make deps`; a missing file fails with the
/// one-line error naming the package), and small broken ones written to a temporary folder.
@Suite("Fashion-MNIST IDX files", .tags(.dataset))
struct DatasetTests {
    @Test("the installed test split: 10,000 images of 28x28, first labels 9, 2, 1, 1 (ankle boot, pullover, trouser, trouser)")
    func realTestSplit() throws {
        let test = try FashionMNIST.load(.test)
        #expect(test.count == 10_000)
        #expect(test.pixels.count == 10_000 * 784)
        #expect(Array(test.labels.prefix(4)) == [9, 2, 1, 1])
        // The first image's bytes sum to 33,456 (checked with Python's gzip module).
        #expect(test.bytes[0..<784].reduce(0) { $0 + Int($1) } == 33_456)
        #expect(test.pixels.allSatisfy { (0...1).contains($0) })
        #expect(test.pixels.contains(1) && test.pixels.contains(0))
        // Every class occurs 1,000 times in the test split.
        #expect((0..<10).map { c in test.labels.filter { $0 == c }.count } == Array(repeating: 1000, count: 10))
    }

    @Test("the installed training split: 60,000 images, first label 9")
    func realTrainSplit() throws {
        let train = try FashionMNIST.load(.train)
        #expect(train.count == 60_000)
        #expect(train.labels.first == 9)
        #expect(train.bytes[0..<784].reduce(0) { $0 + Int($1) } == 76_247)
    }

    // MARK: - Broken files

    /// A fresh folder with the four files of a split, gzipped, from the given contents.
    static func folder(images: [UInt8], labels: [UInt8], prefix: String = "t10k") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try gzip(images, to: "\(dir)/\(prefix)-images-idx3-ubyte.gz")
        try gzip(labels, to: "\(dir)/\(prefix)-labels-idx1-ubyte.gz")
        return dir
    }

    static func gzip(_ bytes: [UInt8], to path: String) throws {
        let f = try #require(gzopen(path, "wb"))
        let n = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        #expect(Int(n) == bytes.count)
        gzclose(f)
    }

    static func header(_ dims: [Int], type: UInt8 = 8) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + dims.flatMap { d in (0..<4).map { UInt8(truncatingIfNeeded: d >> (8 * (3 - $0))) } }
    }

    static func images(_ n: Int, rows: Int = 28, cols: Int = 28, data: Int? = nil) -> [UInt8] {
        header([n, rows, cols]) + [UInt8](repeating: 7, count: data ?? n * rows * cols)
    }

    static func labels(_ n: Int) -> [UInt8] { header([n]) + (0..<n).map { UInt8($0 % 10) } }

    @Test("small valid files load, pixel 7 reads as 7/255")
    func smallValid() throws {
        let dir = try Self.folder(images: Self.images(3), labels: Self.labels(3))
        let set = try FashionMNIST.load(.test, directory: dir)
        #expect(set.count == 3)
        #expect(set.labels == [0, 1, 2])
        #expect(set.pixels[0] == Float(7) / 255)
    }

    func expectCorrupt(images: [UInt8], labels: [UInt8], file: String, mentioning words: [String]) throws {
        let dir = try Self.folder(images: images, labels: labels)
        do {
            _ = try FashionMNIST.load(.test, directory: dir)
            Issue.record("a broken \(file) file loaded")
        } catch let e as DatasetError {
            guard case .corrupt(let path, _) = e else { Issue.record("expected corrupt, got \(e)"); return }
            #expect(path.hasSuffix(file))
            for w in words { #expect(e.description.contains(w), "\(e.description)") }
            #expect(!e.description.contains("\n"))
        }
    }

    @Test("a bad magic number, wrong dimensions, short or long data and a count mismatch each give one clear line")
    func corruptFiles() throws {
        var badMagic = Self.images(2)
        badMagic[2] = 0x0D  // float elements
        try expectCorrupt(images: badMagic, labels: Self.labels(2), file: "t10k-images-idx3-ubyte.gz", mentioning: ["magic number 0x00000d03"])
        try expectCorrupt(images: Self.images(2, rows: 27), labels: Self.labels(2), file: "t10k-images-idx3-ubyte.gz",
                          mentioning: ["dimensions [2, 27, 28]", "expected [n, 28, 28]"])
        try expectCorrupt(images: Self.images(2, data: 784 + 100), labels: Self.labels(2), file: "t10k-images-idx3-ubyte.gz",
                          mentioning: ["truncated", "884 data bytes", "need 1568"])
        try expectCorrupt(images: Self.images(2, data: 1569), labels: Self.labels(2), file: "t10k-images-idx3-ubyte.gz",
                          mentioning: ["too long"])
        try expectCorrupt(images: Self.images(3), labels: Self.labels(2), file: "t10k-labels-idx1-ubyte.gz",
                          mentioning: ["2 labels for 3 images"])
        try expectCorrupt(images: Self.images(2), labels: [0, 0, 8], file: "t10k-labels-idx1-ubyte.gz", mentioning: ["shorter than the 4-byte magic"])
        try expectCorrupt(images: Self.images(2), labels: Self.header([2]) + [3, 10], file: "t10k-labels-idx1-ubyte.gz", mentioning: ["label 10"])
    }

    @Test("a gzip stream cut short is reported by zlib, not read as a short file")
    func truncatedGzip() throws {
        let dir = try Self.folder(images: Self.images(50), labels: Self.labels(50))
        let path = "\(dir)/t10k-images-idx3-ubyte.gz"
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try FashionMNIST.load(.test, directory: dir)
        } throws: { error in
            guard let e = error as? DatasetError, case .corrupt = e else { return false }
            return e.description.contains("gzip:") && e.description.contains("t10k-images-idx3-ubyte.gz")
        }
    }

    @Test("a missing file names the Debian package to install")
    func missing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("idx-none-\(UUID().uuidString)").path
        #expect(throws: DatasetError.missing(path: "\(dir)/train-images-idx3-ubyte.gz", package: "dataset-fashion-mnist")) {
            _ = try FashionMNIST.load(.train, directory: dir)
        }
        let e = DatasetError.missing(path: "/x", package: FashionMNIST.package)
        #expect(e.description.contains("apt-get install dataset-fashion-mnist"))
    }
}
