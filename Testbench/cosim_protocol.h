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
// When no logic reacts to the clock's falling edge (COSIM_MERGE_FALL, non-trace
// builds), the falling-edge eval is folded into the next eval: same results.
//   'y'                           sync -> u64 cycles stepped so far
//   'q'                           quit -> 'q' once the waveform is closed, then exit
// With --quiet the driver sends nothing at all (used for replays).
#pragma once

#define COSIM_MAGIC "CSIM"
#define COSIM_PROTOCOL_VERSION 1u

#define COSIM_OP_POKE 'p'
#define COSIM_OP_PEEK 'g'
#define COSIM_OP_EVAL 'e'
#define COSIM_OP_STEP 's'
#define COSIM_OP_BULK 'b'
#define COSIM_OP_SYNC 'y'
#define COSIM_OP_QUIT 'q'
