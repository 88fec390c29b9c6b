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
    /// Reads a Debian data package: Fashion-MNIST, onnx's operator test cases.
    @Tag public static var dataset: Self
    /// Runs a Python tool of the project's .venv or reads its files (onnxruntime, qonnx).
    @Tag public static var python: Self
    /// Trains a network (seconds to minutes of arithmetic).
    @Tag public static var training: Self
}
