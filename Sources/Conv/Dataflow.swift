/// The name of a dataflow: what stays put in each PE of a spatial array (the taxonomy of Chen
/// et al., "Eyeriss", ISCA 2016). The dataflows themselves, and the list of them, are in
/// Sources/Dataflows; this is only the name records and flags carry (`ws`, `os`, `rs`).
public struct Dataflow: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public init(from decoder: Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
