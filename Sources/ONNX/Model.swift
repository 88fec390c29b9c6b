import Foundation

/// A node attribute's value, as far as the supported operators use them.
public enum Attribute: Hashable, Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case tensor(Tensor)
    /// Any other kind (graphs, sparse tensors, type protos, lists of strings or tensors), by its
    /// kind's name: no supported operator takes one.
    case unsupported(String)

    var int: Int? { if case .int(let v) = self { v } else { nil } }
    var float: Float? { if case .float(let v) = self { v } else { nil } }
    var string: String? { if case .string(let v) = self { v } else { nil } }
    var ints: [Int]? { if case .ints(let v) = self { v } else { nil } }
}

/// One node of the graph.
public struct Node: Hashable, Sendable {
    public var name: String
    public var opType: String
    /// "" for the standard operators (also written "ai.onnx").
    public var domain: String
    /// Input and output value names; "" marks an omitted optional one.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    var label: String { name.isEmpty ? "(unnamed \(opType))" : name }
    var isStandard: Bool { domain.isEmpty || domain == "ai.onnx" }
    func input(_ i: Int) -> String? { i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil }
}

/// A graph input or output: a tensor of a static shape.
public struct ValueInfo: Hashable, Sendable {
    public var name: String
    /// The element type's DataType code, and its name.
    public var elementCode: Int
    /// Dimensions; nil for a symbolic or missing one. nil shape: the type is not a tensor's or
    /// has no shape.
    public var shape: [Int?]?
    /// Not a tensor (a sequence, a map, an optional): described by kind.
    public var nonTensorKind: String?

    public var element: ElementType? { ElementType(rawValue: elementCode) }
    public var staticShape: [Int]? {
        guard let shape, shape.allSatisfy({ $0 != nil }) else { return nil }
        return shape.map { $0! }
    }
}

/// An ONNX model as the interpreter and the importer read it: the standard opset, the graph's
/// nodes in order, its initializers, and its data inputs (those without an initializer) and
/// outputs. Loading refuses what cannot be read at all (external data, sparse initializers,
/// training information, an opset outside 7...23); unsupported operators and attributes are
/// the pre-flight check's job (`Preflight`), which lists them all at once.
public struct ONNXModel: Sendable {
    public static let opsets = 7...23

    public var opset: Int
    public var producer: String
    public var nodes: [Node]
    public var initializers: [String: Tensor]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ONNXError("cannot read \(path)") }
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ONNXError("\(path) is not an ONNX model (ModelProto): \(error)")
        }
        do {
            try self.init(proto: proto)
        } catch let e as ONNXError {
            throw ONNXError("\(path): \(e.description)")
        }
    }

    init(proto: Onnx_ModelProto) throws {
        guard proto.trainingInfo.isEmpty else {
            throw ONNXError("the model carries training information (training_info): unsupported; export the inference graph only")
        }
        let standard = proto.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
        guard let opset = standard.map({ Int($0.version) }).max() else {
            throw ONNXError("the model imports no standard opset (opset_import has no \"\" or \"ai.onnx\" domain)")
        }
        guard opset >= Self.opsets.lowerBound else {
            throw ONNXError("opset \(opset) is older than the supported \(Self.opsets.lowerBound)...\(Self.opsets.upperBound): convert the model first, e.g. onnx.version_converter.convert_version(model, 13)")
        }
        guard opset <= Self.opsets.upperBound else {
            throw ONNXError("opset \(opset) is newer than the supported \(Self.opsets.lowerBound)...\(Self.opsets.upperBound)")
        }
        let g = proto.graph
        guard g.sparseInitializer.isEmpty else {
            throw ONNXError("the graph has sparse initializers (\(g.sparseInitializer.count)): unsupported; store them dense")
        }
        self.opset = opset
        producer = [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        var initializers: [String: Tensor] = [:]
        for t in g.initializer { initializers[t.name] = try Tensor(proto: t) }
        self.initializers = initializers
        nodes = try g.node.map { n in
            var attributes: [String: Attribute] = [:]
            for a in n.attribute {
                do {
                    attributes[a.name] = try Self.attribute(a)
                } catch let e as ONNXError {
                    throw ONNXError("node '\(n.name)' (\(n.opType)) attribute \(a.name): \(e.description)")
                }
            }
            return Node(name: n.name, opType: n.opType, domain: n.domain, inputs: n.input, outputs: n.output, attributes: attributes)
        }
        inputs = g.input.filter { initializers[$0.name] == nil }.map(Self.valueInfo)
        outputs = g.output.map(Self.valueInfo)
    }

    static func attribute(_ a: Onnx_AttributeProto) throws -> Attribute {
        // Old exporters leave `type` unset; the filled field tells then.
        switch a.type {
        case .int: return .int(Int(a.i))
        case .float: return .float(a.f)
        case .string: return .string(String(decoding: a.s, as: UTF8.self))
        case .ints: return .ints(a.ints.map { Int($0) })
        case .floats: return .floats(a.floats)
        case .tensor: return .tensor(try Tensor(proto: a.t))
        case .undefined:
            if a.hasI { return .int(Int(a.i)) }
            if a.hasF { return .float(a.f) }
            if a.hasS { return .string(String(decoding: a.s, as: UTF8.self)) }
            if a.hasT { return .tensor(try Tensor(proto: a.t)) }
            if !a.ints.isEmpty { return .ints(a.ints.map { Int($0) }) }
            if !a.floats.isEmpty { return .floats(a.floats) }
            return .unsupported("undefined")
        default: return .unsupported("\(a.type)")
        }
    }

    static func valueInfo(_ v: Onnx_ValueInfoProto) -> ValueInfo {
        guard case .tensorType(let t)? = v.type.value else {
            let kind = v.type.value.map { "\($0)".components(separatedBy: "(").first ?? "?" } ?? "no type"
            return ValueInfo(name: v.name, elementCode: 0, shape: nil, nonTensorKind: kind)
        }
        let shape: [Int?]? = t.hasShape ? t.shape.dim.map { d in
            if case .dimValue(let n)? = d.value, n >= 0 { Int(n) } else { nil }
        } : nil
        return ValueInfo(name: v.name, elementCode: Int(t.elemType), shape: shape, nonTensorKind: nil)
    }
}
