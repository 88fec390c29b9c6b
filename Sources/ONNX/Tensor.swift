import Foundation

/// Why an ONNX model cannot be read, checked, run or imported: one line (or, for the
/// pre-flight check, one line per unsupported thing).
public struct ONNXError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The element types the interpreter computes with (TensorProto.DataType codes).
public enum ElementType: Int, Hashable, Sendable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7

    public var isFloat: Bool { self == .float }
    public var description: String {
        switch self {
        case .float: "float"
        case .uint8: "uint8"
        case .int8: "int8"
        case .int32: "int32"
        case .int64: "int64"
        }
    }
    /// The ONNX name of any DataType code, for messages about the ones we refuse.
    static func name(_ code: Int) -> String {
        let names = [0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
                     8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64",
                     15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
                     20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1"]
        return names[code] ?? "type \(code)"
    }
    /// The representable range of an integer type (for saturation).
    var range: ClosedRange<Int64> {
        switch self {
        case .uint8: 0...255
        case .int8: -128...127
        case .int32: Int64(Int32.min)...Int64(Int32.max)
        case .int64, .float: Int64.min...Int64.max
        }
    }
}

/// A dense tensor, row-major. Float tensors keep their values in `floats`, integer ones in
/// `ints` (every supported integer type fits an Int64 exactly); the other array is empty.
public struct Tensor: Hashable, Sendable, CustomStringConvertible {
    public var element: ElementType
    public var shape: [Int]
    public var floats: [Float]
    public var ints: [Int64]

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) holds \(shape.reduce(1, *)) values, not \(floats.count)")
        self.element = .float
        self.shape = shape
        self.floats = floats
        self.ints = []
    }

    public init(_ element: ElementType, shape: [Int], ints: [Int64]) {
        precondition(element != .float && shape.reduce(1, *) == ints.count)
        self.element = element
        self.shape = shape
        self.floats = []
        self.ints = ints
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }
    public var description: String { "\(element)\(shape)" }

    /// The values as Floats (integers converted), e.g. a scale or a Clip bound of either type.
    public var asFloats: [Float] { element.isFloat ? floats : ints.map { Float($0) } }
    /// The values as Ints, for shape, axis and index tensors.
    public var asInts: [Int] { element.isFloat ? floats.map { Int($0) } : ints.map { Int($0) } }

    /// The same values with another shape of the same count.
    func reshaped(_ newShape: [Int]) -> Tensor {
        var t = self
        t.shape = newShape
        return t
    }

    /// Gathers elements by flat index (for layout operators that work on any element type).
    func picking(_ indices: [Int], shape newShape: [Int]) -> Tensor {
        element.isFloat ? Tensor(shape: newShape, floats: indices.map { floats[$0] })
                        : Tensor(element, shape: newShape, ints: indices.map { ints[$0] })
    }
}

/// Row-major strides of a shape.
func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in shape.indices.reversed() {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}

extension Tensor {
    /// Reads a TensorProto: its values from `raw_data` (little-endian) or from the typed field
    /// the element type uses (float_data; int32_data for int8, uint8 and int32; int64_data).
    /// Data in an external file and segmented tensors are refused.
    init(proto t: Onnx_TensorProto) throws {
        let name = t.name.isEmpty ? "(unnamed)" : "'\(t.name)'"
        if t.dataLocation == .external || !t.externalData.isEmpty {
            let file = t.externalData.first { $0.key == "location" }?.value ?? "?"
            throw ONNXError("tensor \(name) keeps its data in an external file (\(file)): unsupported; save the model with its data inside (onnx.save_model(model, path, save_as_external_data=False))")
        }
        if t.hasSegment { throw ONNXError("tensor \(name) is a segment of a larger tensor: unsupported") }
        guard let element = ElementType(rawValue: Int(t.dataType)) else {
            throw ONNXError("tensor \(name) has element type \(ElementType.name(Int(t.dataType))): supported float, uint8, int8, int32, int64")
        }
        let dims = t.dims.map { Int($0) }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw ONNXError("tensor \(name) has a negative dimension \(dims)") }
        let count = dims.reduce(1, *)
        func check(_ n: Int, _ field: String) throws {
            guard n == count else { throw ONNXError("tensor \(name) of shape \(dims) holds \(n) values in \(field), expected \(count)") }
        }
        if t.hasRawData {
            let raw = [UInt8](t.rawData)
            let width: Int = switch element {
            case .float, .int32: 4
            case .uint8, .int8: 1
            case .int64: 8
            }
            try check(raw.count / width, "raw_data")
            guard raw.count == count * width else { throw ONNXError("tensor \(name): raw_data has \(raw.count) bytes, expected \(count * width)") }
            func word(_ i: Int, _ n: Int) -> UInt64 {
                var v: UInt64 = 0
                for b in 0..<n { v |= UInt64(raw[i * n + b]) << (8 * b) }
                return v
            }
            switch element {
            case .float: self.init(shape: dims, floats: (0..<count).map { Float(bitPattern: UInt32(word($0, 4))) })
            case .int32: self.init(element, shape: dims, ints: (0..<count).map { Int64(Int32(bitPattern: UInt32(word($0, 4)))) })
            case .int64: self.init(element, shape: dims, ints: (0..<count).map { Int64(bitPattern: word($0, 8)) })
            case .uint8: self.init(element, shape: dims, ints: raw.map { Int64($0) })
            case .int8: self.init(element, shape: dims, ints: raw.map { Int64(Int8(bitPattern: $0)) })
            }
            return
        }
        switch element {
        case .float:
            try check(t.floatData.count, "float_data")
            self.init(shape: dims, floats: t.floatData)
        case .int64:
            try check(t.int64Data.count, "int64_data")
            self.init(element, shape: dims, ints: t.int64Data)
        case .int32, .int8, .uint8:
            try check(t.int32Data.count, "int32_data")
            let values = t.int32Data.map { Int64($0) }
            guard values.allSatisfy({ element.range.contains($0) }) else {
                throw ONNXError("tensor \(name): an int32_data value is outside the range of \(element)")
            }
            self.init(element, shape: dims, ints: values)
        }
    }

    /// Reads a serialized TensorProto file (an ONNX test case's input_*.pb or output_*.pb).
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ONNXError("cannot read \(path)") }
        do {
            try self.init(proto: Onnx_TensorProto(serializedBytes: data))
        } catch let e as ONNXError {
            throw ONNXError("\(path): \(e.description)")
        } catch {
            throw ONNXError("\(path) is not a serialized ONNX TensorProto: \(error)")
        }
    }

    /// The proto's name, for test cases that name their inputs.
    public static func name(contentsOf path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ONNXError("cannot read \(path)") }
        return try Onnx_TensorProto(serializedBytes: data).name
    }
}
