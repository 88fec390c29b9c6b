/// A plain-text table for the terminal: the `leftAligned` columns (names, keys) padded on the
/// right, the others (numbers) on the left, a rule under the header.
public func table(_ header: [String], _ rows: [[String]], leftAligned: Set<Int> = [0]) -> String {
    let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max()! }
    var lines: [String] = []
    for (n, row) in ([header] + rows).enumerated() {
        lines.append(row.enumerated().map { i, cell in
            leftAligned.contains(i) ? cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                                    : String(repeating: " ", count: widths[i] - cell.count) + cell
        }.joined(separator: "  "))
        if n == 0 { lines.append(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))) }
    }
    return lines.joined(separator: "\n")
}
