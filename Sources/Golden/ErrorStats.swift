import Foundation

/// Error of a quantized result against a real-valued reference (error = actual - reference).
public struct ErrorStats: Sendable, Codable {
    public let count: Int
    public let maxAbsError: Double
    public let rmse: Double
    /// The bias: about -1/2 LSB for truncation, about 0 for nearest and stochastic rounding.
    public let meanError: Double
    /// `10 log10(sum ref^2 / sum err^2)`; `+infinity` when there is no error.
    public let sqnrDB: Double
    /// Sum of squared errors and of squared reference values: what merging needs.
    public let errorEnergy: Double
    public let signalEnergy: Double

    public init(reference: [Double], actual: [Double]) {
        precondition(reference.count == actual.count, "reference and actual differ in length")
        var maxAbs = 0.0, sum = 0.0, sumSquares = 0.0, signalPower = 0.0
        for (ref, act) in zip(reference, actual) {
            let e = act - ref
            maxAbs = max(maxAbs, abs(e))
            sum += e
            sumSquares += e * e
            signalPower += ref * ref
        }
        let n = Double(reference.count)
        count = reference.count
        maxAbsError = maxAbs
        meanError = count > 0 ? sum / n : 0
        rmse = count > 0 ? (sumSquares / n).squareRoot() : 0
        sqnrDB = sumSquares == 0 ? .infinity : 10 * log10(signalPower / sumSquares)
        errorEnergy = sumSquares
        signalEnergy = signalPower
    }

    /// Statistics known by their figures (the energies give SQNR).
    public init(count: Int, maxAbsError: Double, rmse: Double, meanError: Double, errorEnergy: Double, signalEnergy: Double) {
        self.count = count
        self.maxAbsError = maxAbsError
        self.rmse = rmse
        self.meanError = meanError
        self.errorEnergy = errorEnergy
        self.signalEnergy = signalEnergy
        sqnrDB = errorEnergy == 0 ? .infinity : 10 * log10(signalEnergy / errorEnergy)
    }

    /// The statistics of all the values behind `parts` together.
    public init(merging parts: [ErrorStats]) {
        count = parts.reduce(0) { $0 + $1.count }
        maxAbsError = parts.map(\.maxAbsError).max() ?? 0
        errorEnergy = parts.reduce(0) { $0 + $1.errorEnergy }
        signalEnergy = parts.reduce(0) { $0 + $1.signalEnergy }
        let n = Double(count)
        meanError = count > 0 ? parts.reduce(0) { $0 + $1.meanError * Double($1.count) } / n : 0
        rmse = count > 0 ? (errorEnergy / n).squareRoot() : 0
        sqnrDB = errorEnergy == 0 ? .infinity : 10 * log10(signalEnergy / errorEnergy)
    }
}
