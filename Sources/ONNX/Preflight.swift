/// The pre-flight check: before anything runs or is imported, one pass over the whole model
/// lists every operator, attribute value and graph input or output the interpreter does not
/// support, each as (domain, operator, opset, node name, attribute), in a single error. Nothing
/// unsupported passes silently: an attribute the table below does not know is refused too.
public enum Preflight {
    typealias Check = @Sendable (Attribute) -> String?

    /// The standard operators supported, each with the attributes it accepts and a check of
    /// their values (nil when any value is fine). Opset-dependent forms are read by the
    /// interpreter (Clip's bounds, Softmax's axis, Unsqueeze's axes).
    static let operators: [String: [String: Check?]] = [
        "Conv": ["auto_pad": autoPad, "dilations": allOnes, "group": equals(1), "kernel_shape": length(2), "pads": length(4), "strides": length(2)],
        "Gemm": ["alpha": nil, "beta": nil, "transA": nil, "transB": nil],
        "MatMul": [:],
        "Add": [:],
        "Relu": [:],
        "Clip": ["min": nil, "max": nil],
        "MaxPool": ["auto_pad": autoPad, "ceil_mode": nil, "dilations": allOnes, "kernel_shape": length(2), "pads": length(4),
                    "storage_order": equals(0), "strides": length(2)],
        "AveragePool": ["auto_pad": autoPad, "ceil_mode": nil, "count_include_pad": nil, "dilations": allOnes,
                        "kernel_shape": length(2), "pads": length(4), "strides": length(2)],
        "GlobalAveragePool": [:],
        "Flatten": ["axis": nil],
        "Reshape": ["allowzero": nil],
        "BatchNormalization": ["epsilon": nil, "momentum": nil, "spatial": equals(1), "training_mode": equals(0)],
        "Softmax": ["axis": nil],
        "QuantizeLinear": ["axis": nil, "saturate": nil, "block_size": equals(0), "output_dtype": oneOf([0, 2, 3], "0, 2 (uint8), 3 (int8)")],
        "DequantizeLinear": ["axis": nil, "block_size": equals(0), "output_dtype": oneOf([0, 1], "0, 1 (float)")],
        "Constant": ["value": nil, "value_float": nil, "value_floats": nil, "value_int": nil, "value_ints": nil],
        "Identity": [:],
        "Dropout": ["ratio": nil, "seed": nil],
        "Cast": ["to": nil, "saturate": nil, "round_mode": nil],
        "Shape": ["start": nil, "end": nil],
        "Gather": ["axis": nil],
        "Concat": ["axis": nil],
        "Unsqueeze": ["axes": nil],
    ]

    public static var supportedOperators: [String] { operators.keys.sorted() }

    /// Throws one error listing every problem, one per line, or returns when there is none.
    public static func check(_ model: ONNXModel) throws {
        let problems = self.problems(model)
        guard problems.isEmpty else {
            throw ONNXError("\(problems.count) unsupported item\(problems.count == 1 ? "" : "s") in the model (nothing was run or imported):\n"
                            + problems.map { "  " + $0 }.joined(separator: "\n"))
        }
    }

    /// The problems, one line each.
    public static func problems(_ model: ONNXModel) -> [String] {
        var problems: [String] = []
        for v in model.inputs + model.outputs {
            let role = model.inputs.contains(v) ? "input" : "output"
            if let kind = v.nonTensorKind {
                problems.append("graph \(role) '\(v.name)': a \(kind), not a tensor")
            } else if v.element == nil {
                problems.append("graph \(role) '\(v.name)': element type \(ElementType.name(v.elementCode)) (supported: float, uint8, int8, int32, int64)")
            } else if role == "input", v.staticShape == nil {
                problems.append("graph input '\(v.name)': shape \(v.shape.map { "\($0.map { $0.map(String.init) ?? "?" })" } ?? "missing") is not static")
            }
        }
        // Element types flow from the inputs and initializers through the supported operators,
        // so that a float-only operator on integers is listed here, not met while running.
        var types: [String: ElementType] = model.initializers.mapValues(\.element)
        for v in model.inputs { types[v.name] = v.element }
        for node in model.nodes {
            let domain = node.domain.isEmpty ? "ai.onnx" : node.domain
            let at = "\(domain) \(node.opType), opset \(model.opset), node '\(node.label)'"
            guard node.isStandard, let attributes = operators[node.opType] else {
                problems.append("\(at): operator not supported")
                continue
            }
            for (name, value) in node.attributes.sorted(by: { $0.key < $1.key }) {
                guard let entry = attributes[name] else {
                    problems.append("\(at): attribute \(name) not supported")
                    continue
                }
                if case .unsupported(let kind) = value {
                    problems.append("\(at): attribute \(name) of kind \(kind) not supported")
                } else if let check = entry, let why = check(value) {
                    problems.append("\(at): attribute \(name) = \(show(value)): \(why)")
                }
            }
            problems += formProblems(node, model: model).map { "\(at): \($0)" }
            let (outputType, problem) = elementType(node, inputs: node.inputs.map { $0.isEmpty ? nil : types[$0] })
            if let problem { problems.append("\(at): \(problem)") }
            for name in node.outputs where !name.isEmpty { types[name] = outputType }
        }
        return problems
    }

    /// The operators that compute in float only (their first input).
    static let floatOnly: Set<String> = ["Conv", "Gemm", "MatMul", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool",
                                         "BatchNormalization", "Softmax", "QuantizeLinear"]

    /// A node's output element type from its inputs' (nil where unknown), and what is wrong
    /// with the inputs' types, if anything.
    static func elementType(_ node: Node, inputs: [ElementType?]) -> (ElementType?, String?) {
        let first = inputs.first ?? nil
        let a = node.attributes
        switch node.opType {
        case _ where floatOnly.contains(node.opType):
            if let t = first, t != .float { return (nil, "input of element type \(t): only float is supported") }
            if node.opType == "QuantizeLinear" {
                return (inputs.count > 2 ? inputs[2] : (a["output_dtype"]?.int == 3 ? .int8 : .uint8), nil)
            }
            return (.float, nil)
        case "DequantizeLinear":
            if let t = first, ![.int8, .uint8, .int32].contains(t) { return (.float, "input of element type \(t): int8, uint8 or int32 is required") }
            return (.float, nil)
        case "Cast":
            let to = a["to"]?.int ?? 0
            if let t = first, t.rawValue != to {
                return (ElementType(rawValue: to), "a Cast from \(t) to \(ElementType.name(to)): only a Cast to the type the tensor has is supported")
            }
            return (first, nil)
        case "Shape": return (.int64, nil)
        case "Constant":
            if case .tensor(let t)? = a["value"] { return (t.element, nil) }
            return (a["value_float"] != nil || a["value_floats"] != nil ? .float : .int64, nil)
        default:
            // Layout operators, Add, Clip, Identity, Dropout: the first input's type.
            return (first, nil)
        }
    }

    /// Checks of a node's form beyond single attributes: extra outputs that only training or
    /// indices use, and convolutions or pooling that are not 2-D.
    static func formProblems(_ node: Node, model: ONNXModel) -> [String] {
        var problems: [String] = []
        let usedOutputs = node.outputs.enumerated().filter { !$0.element.isEmpty }.map(\.offset)
        switch node.opType {
        case "MaxPool" where usedOutputs.contains(1):
            problems.append("output Indices not supported")
        case "BatchNormalization" where usedOutputs.contains(where: { $0 > 0 }):
            problems.append("outputs beyond Y (training statistics) not supported")
        case "Dropout" where usedOutputs.contains(1):
            problems.append("output mask not supported")
        case "Conv":
            if let w = node.input(1), let t = model.initializers[w], t.rank != 4 {
                problems.append("weight '\(w)' of rank \(t.rank): only 2-D convolutions (rank 4) are supported")
            }
        case "Constant" where node.attributes.isEmpty:
            problems.append("no value (sparse_value or string values are not supported)")
        default:
            break
        }
        return problems
    }

    static func show(_ a: Attribute) -> String {
        switch a {
        case .int(let v): "\(v)"
        case .float(let v): "\(v)"
        case .string(let v): v
        case .ints(let v): "\(v)"
        case .floats(let v): "\(v)"
        case .tensor(let t): "tensor \(t)"
        case .unsupported(let k): k
        }
    }

    static let autoPad: Check = { a in
        ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(a.string ?? "") ? nil : "allowed NOTSET, SAME_UPPER, SAME_LOWER, VALID"
    }
    static let allOnes: Check = { a in
        (a.ints ?? [0]).allSatisfy { $0 == 1 } ? nil : "only 1 is supported"
    }
    static func equals(_ v: Int) -> Check {
        { a in a.int == v ? nil : "only \(v) is supported" }
    }
    static func length(_ n: Int) -> Check {
        { a in a.ints?.count == n ? nil : "only 2-D forms (\(n) values) are supported" }
    }
    static func oneOf(_ values: [Int], _ text: String) -> Check {
        { a in values.contains(a.int ?? -1) ? nil : "allowed \(text)" }
    }
}
