import Foundation
import Model
@testable import Networks
import Testing

/// Calibration images from a file (`simulate network --onnx --calibration`): NumPy `.npy`
/// uint8 and IDX unsigned bytes, written here byte by byte; what is refused names the file.
@Suite("calibration images from IDX and .npy")
struct CalibrationImagesTests {
    static let shape = TensorShape(channels: 1, height: 2, width: 3)

    static func scratch(_ name: String, _ bytes: [UInt8]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accelgen-calibration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// A version 1 .npy: magic, version, header length, the header padded to 64 bytes with spaces and a newline.
    static func npy(_ header: String, _ data: [UInt8]) -> [UInt8] {
        var text = Array(header.utf8)
        while (10 + text.count + 1) % 64 != 0 { text.append(0x20) }
        text.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text + data
    }

    static let twelve: [UInt8] = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]

    @Test("a .npy of uint8, N×H×W and N×1×H×W; an IDX file N×H×W")
    func reads() throws {
        for shapeText in ["(2, 2, 3)", "(2, 1, 2, 3)"] {
            let path = try Self.scratch("c.npy", Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': \(shapeText), }", Self.twelve))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let images = try CalibrationImages.read(path, shape: Self.shape)
            #expect(images.count == 2)
            #expect(images.bytes == Self.twelve)
            #expect(images.pixels[11] == 1)
        }
        let idx: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3] + Self.twelve
        let path = try Self.scratch("c-idx3-ubyte", idx)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try CalibrationImages.read(path, shape: Self.shape).bytes == Self.twelve)
    }

    @Test("refused, naming the file: float32, Fortran order, another shape, cut short, not .npy, missing")
    func refusals() throws {
        let cases: [([UInt8], String)] = [
            (Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", Array(repeating: 0, count: 24)), "only uint8"),
            (Self.npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 3), }", Self.twelve), "C order"),
            (Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3, 2), }", Self.twelve), "expected [n, 1, 2, 3]"),
            (Self.npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 3), }", Self.twelve), "needs 18"),
            (Array("NUMPY but not really".utf8), "magic"),
        ]
        for (bytes, words) in cases {
            let path = try Self.scratch("c.npy", bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            do {
                _ = try CalibrationImages.read(path, shape: Self.shape)
                Issue.record("accepted: \(words)")
            } catch {
                #expect("\(error)".contains(path) && "\(error)".contains(words), "\(error)")
            }
        }
        #expect(throws: DatasetError.self) { try CalibrationImages.read("/nonexistent/c.npy", shape: Self.shape) }
    }
}
