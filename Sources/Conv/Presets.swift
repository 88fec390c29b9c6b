import Cores
import Model

extension ConvShape {
    /// Largest value accepted for any one dimension (keeps every count well inside Int).
    public static let dimensionLimit = 1 << 16

    /// Refuses a shape no dataflow can run, naming the `simulate conv` flag at fault.
    public func validate() throws {
        let limit = Self.dimensionLimit
        for (flag, value) in [("batch", batch), ("channels", channels), ("filters", filters), ("height", height),
                              ("width", width), ("filter-height", filterHeight), ("filter-width", filterWidth), ("stride", stride)]
            where value < 1 || value > limit {
            throw ParameterError(flag, value, allowed: "1...\(limit)")
        }
        // Padding beyond R-1 (or S-1) only adds outputs that see nothing but zeros.
        let maxPadding = min(filterHeight, filterWidth) - 1
        if padding < 0 || padding > maxPadding {
            throw ParameterError("padding", padding, allowed: "0...\(maxPadding) (less than the filter size)")
        }
        if filterHeight > height + 2 * padding {
            throw ParameterError("filter-height", filterHeight, allowed: "1...\(height + 2 * padding) (the padded input height)")
        }
        if filterWidth > width + 2 * padding {
            throw ParameterError("filter-width", filterWidth, allowed: "1...\(width + 2 * padding) (the padded input width)")
        }
    }
}

/// The presets (Model) by `--layer` name.
extension Presets {
    /// The layers a `--layer` name stands for: one preset, or a group.
    public static func named(_ name: String) throws -> [ConvLayer] {
        if let group = groups[name] { return group }
        if let layer = all.first(where: { $0.name == name }) { return [layer] }
        throw ParameterError("layer", name, allowed: (groups.keys.sorted() + all.map(\.name)).joined(separator: " | "))
    }
}
