import Model
import Cores
import Cosim

extension EventCounter {
    /// The data-movement field this counter fills.
    public var field: WritableKeyPath<DataMovement, Int> {
        switch self {
        case .macs: \.macs
        case .gated: \.gatedMACs
        case .rfReads: \.registerFileReads
        case .rfWrites: \.registerFileWrites
        case .peToPE: \.peToPE
        case .bufferReads: \.bufferReads
        case .bufferWrites: \.bufferWrites
        }
    }
}

extension DataMovement {
    /// The array's event counters as they stand in `sim`: `counters` are the ones the array has
    /// (every one by default); the others, and DRAM traffic (the host's), stay zero.
    public init(reading counters: [EventCounter] = EventCounter.allCases, from sim: any CycleSimulator) throws {
        self.init()
        for counter in counters { self[keyPath: counter.field] = Int(try sim.peekUnsigned(counter.port.name)) }
    }
}
