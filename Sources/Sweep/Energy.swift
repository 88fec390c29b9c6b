import Conv
import Cores
import Model

extension EnergyModel {
    /// The estimate for one M×K by K×N GEMM on the systolic array `c` (docs/ENERGY.md).
    /// `picojoulesPerMAC` is per useful MAC (M·N·K), so the padding of ragged tiles shows as a
    /// higher cost.
    public static func systolic(_ c: ArrayConfig, m: Int, n: Int, k: Int) -> EnergyEstimate {
        EnergyModel(Datapath(c)).estimate(GEMMEvents(rows: c.rows, cols: c.cols, m: m, n: n, k: k), usefulMACs: m * n * k)
    }
}
