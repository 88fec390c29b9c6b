import Foundation

/// The look every plot shares (the sweep report's, the training figure's): gnuplot line types
/// in Okabe and Ito's colour-blind-safe palette, and gnuplot's number and string literals.
public enum Gnuplot {
    /// Line types 1–9 (8 is black, for a reference curve), cycling after 9; no trailing newline.
    public static let lineTypes = """
        set linetype 1 lc rgb "#0072B2" lw 2 pt 7
        set linetype 2 lc rgb "#D55E00" lw 2 pt 5
        set linetype 3 lc rgb "#009E73" lw 2 pt 9
        set linetype 4 lc rgb "#CC79A7" lw 2 pt 11
        set linetype 5 lc rgb "#E69F00" lw 2 pt 13
        set linetype 6 lc rgb "#56B4E9" lw 2 pt 7
        set linetype 7 lc rgb "#F0E442" lw 2 pt 5
        set linetype 8 lc rgb "#000000" lw 2 pt 9
        set linetype 9 lc rgb "#999999" lw 2 pt 11
        set linetype cycle 9
        """

    /// A number as gnuplot reads it, six significant digits.
    public static func number(_ v: Double) -> String { String(format: "%.6g", v) }

    /// A double-quoted gnuplot string.
    public static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
