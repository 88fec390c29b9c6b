// The bare C++ loop that clocks the reference array (ref_os_array.v) for `make bench`: new A and
// B operands on every cycle, a new tile (`clear`) every K = 256 cycles, one accumulator read
// per cycle. Usage: model CYCLES N (the array's side); prints the line of loop_common.h.
#include "Vdut.h"
#include "loop_common.h"

int main(int argc, char** argv) {
    const long cycles = cycles_argument(argc, argv);
    VerilatedContext ctx;
    Vdut m{&ctx, "TOP"};
    m.clk = 0;
    m.clear = 1;
    m.eval();
    uint32_t x = 0x2545F491u;
    uint64_t checksum = 0;
    const unsigned n = argc > 2 ? unsigned(atoi(argv[2])) : 0;
    if (n == 0 || (n & (n - 1)) != 0) {
        fprintf(stderr, "usage: %s CYCLES N (N a power of two)\n", argv[0]);
        return 2;
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (long c = 0; c < cycles; ++c) {
        fill(m.a_west, x);
        fill(m.b_north, x);
        m.clear = (c & 255) == 0;
        m.sel = c & (n * n - 1);
        m.clk = 0;
        m.eval();
        checksum += m.acc_out;
        m.clk = 1;
        m.eval();
    }
    report(cycles, t0, checksum);
    m.final();
    return 0;
}
