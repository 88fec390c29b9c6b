import Testing

// What a test needs beyond the Swift toolchain, as swift-testing tags. `make test-fast` skips
// every tagged test (`swift test --skip tag:NAME`); `make test` runs them all.
extension Tag {
    /// Builds or runs a design in Verilator.
    @Tag public static var verilator: Self
    /// Compiles or runs a design in Icarus Verilog.
    @Tag public static var icarus: Self
    /// Runs yosys (synthesis, area figures) or a formal proof.
    @Tag public static var synthesis: Self
    /// Starts a Slurm cluster.
    @Tag public static var slurm: Self
    /// Reads Fashion-MNIST from Debian's dataset package.
    @Tag public static var dataset: Self
    /// Trains a network (seconds to minutes of arithmetic).
    @Tag public static var training: Self
}
