// Binary protocol between Sources/Cosim (Swift) and cosim_driver.cpp.
// Keep in sync with Sources/Cosim/Protocol.swift.
//
// All integers little endian. A port value travels in its "wire form":
//   width <= 8: 1 byte, <= 16: 2, <= 32: 4, <= 64: 8,
//   wider: 8 * ceil(width / 64) bytes (64-bit words, least significant first).
// Values are masked to the port width by the driver.
//
// Driver -> host at start (handshake):
//   "CSIM" u32 version u32 nports, then per port: u32 width, u8 output, u16 len, name
// Host -> driver commands (1 opcode byte, then arguments):
//   'p' u16 port, value           poke an input (no reply)
//   'g' u16 port                  peek -> value (evaluates first if inputs changed)
//   'e'                           eval (no reply)
//   's' u64 n                     n clock cycles: clk=1, eval, clk=0, eval (no reply)
//   'b' u16 nin, u16 in[nin], u16 nout, u16 out[nout], u64 n, n rows of input values
//                                 per row: poke inputs, eval, sample outputs, one cycle
//                                 -> n rows of output values (all rows in one reply;
//                                 the driver reads the whole batch before simulating)
//   'S' ...                       stream: queues of beats through valid/ready
//                                 handshakes (below) -> what was accepted/delivered
//   'y'                           sync -> u64 cycles stepped so far
//   'q'                           quit -> 'q' once the waveform is closed, then exit
// When no logic reacts to the clock's falling edge (COSIM_MERGE_FALL, non-trace
// builds), the falling-edge eval is folded into the next eval: same results.
// With --quiet the driver sends nothing at all (used for replays).
//
// Stream command ('S', protocol version 2). Layout (all counts u16 unless noted):
//   u64 max_cycles, u64 expect_beats, u16 nstreams, then per input stream:
//     nvalid, valid[nvalid], nready, ready[nready], ndata, data[ndata], u64 nbeats
//   u8 has_output; if 1: u16 valid, u16 ready, ndata, data[ndata],
//     u8 pattern (0 always, 1 random, 2 repeating), then for random:
//     u64 threshold (ready when (splitmix64() >> 32) < threshold, 0..2^32), u64 seed;
//     for repeating: u32 len, len bytes (0/1)
//   then, per input stream in order, nbeats beats; a beat is the wire forms of
//   its data ports in order (the driver reads everything before simulating).
// Valid ports and ready ports are 1-bit. The driver runs, for c = 0, 1, ...:
//   1. stop if every input queue is empty and >= expect_beats output beats
//      were delivered, or if c == max_cycles;
//   2. per input stream: queue non-empty -> valid ports = 1, data ports = the
//      head beat; empty -> valid ports = 0 (data ports keep the last beat);
//   3. output ready = pattern(c) (always: 1; random: one splitmix64 draw per
//      cycle from state `seed`; repeating: bytes[c mod len]);
//   4. eval;
//   5. per input stream with a head beat: if all its ready ports are 1, the
//      beat is accepted in cycle c (dequeued);
//      output: if valid & ready, the data ports are recorded as a beat of cycle c;
//   6. one clock cycle (rising, then falling edge).
// c counts from 0 at the start of the command. After the loop the valid ports
// and the output ready are set to 0 (evaluated with the next command); data
// ports keep their last values. Other inputs are untouched (the host pokes
// held inputs before the command).
// Reply: u64 cycles simulated, u64 accepted[nstreams], u64 delivered,
//   then u64 accept cycle per accepted beat (stream by stream),
//   u64 delivery cycle per delivered beat, then the delivered beats (wire forms
//   of the output data ports, in order).
#pragma once

#define COSIM_MAGIC "CSIM"
#define COSIM_PROTOCOL_VERSION 2u

#define COSIM_OP_POKE 'p'
#define COSIM_OP_PEEK 'g'
#define COSIM_OP_EVAL 'e'
#define COSIM_OP_STEP 's'
#define COSIM_OP_BULK 'b'
#define COSIM_OP_STREAM 'S'
#define COSIM_OP_SYNC 'y'
#define COSIM_OP_QUIT 'q'
