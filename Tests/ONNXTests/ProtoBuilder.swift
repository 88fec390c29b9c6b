import Foundation
@testable import ONNX

/// Small ONNX models written in the tests, through the generated proto types.
struct ProtoBuilder {
    var opset = 13
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var inputs: [Onnx_ValueInfoProto] = []
    var outputs: [Onnx_ValueInfoProto] = []

    static func tensor(_ name: String, _ dims: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map { Int64($0) }
        t.dataType = 1
        t.floatData = values
        return t
    }

    static func ints(_ name: String, _ dims: [Int], _ values: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map { Int64($0) }
        t.dataType = 7
        t.int64Data = values.map { Int64($0) }
        return t
    }

    static func valueInfo(_ name: String, _ dims: [Int], element: Int32 = 1) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = element
        var s = Onnx_TensorShapeProto()
        s.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.dimValue = Int64(d)
            return dim
        }
        t.shape = s
        v.type.tensorType = t
        return v
    }

    enum A { case i(Int), f(Float), s(String), ints([Int]), t(Onnx_TensorProto) }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String = "", domain: String = "", _ attributes: [String: A] = [:]) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name
        n.domain = domain
        n.input = inputs
        n.output = outputs
        n.attribute = attributes.sorted { $0.key < $1.key }.map { key, value in
            var a = Onnx_AttributeProto()
            a.name = key
            switch value {
            case .i(let v): a.type = .int; a.i = Int64(v)
            case .f(let v): a.type = .float; a.f = v
            case .s(let v): a.type = .string; a.s = Data(v.utf8)
            case .ints(let v): a.type = .ints; a.ints = v.map { Int64($0) }
            case .t(let v): a.type = .tensor; a.t = v
            }
            return a
        }
        nodes.append(n)
    }

    mutating func weight(_ name: String, _ dims: [Int], rng: inout UInt64) {
        let values = (0..<dims.reduce(1, *)).map { _ -> Float in
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(rng >> 40) % 2001 - 1000) / 2000
        }
        initializers.append(Self.tensor(name, dims, values))
    }

    var proto: Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var o = Onnx_OperatorSetIdProto()
        o.domain = ""
        o.version = Int64(opset)
        m.opsetImport = [o]
        m.graph.node = nodes
        m.graph.initializer = initializers
        m.graph.input = inputs
        m.graph.output = outputs
        return m
    }

    func model() throws -> ONNXModel { try ONNXModel(proto: proto) }
}
