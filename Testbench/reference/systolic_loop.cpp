// A bare C++ loop around a generated systolic array (Cores/Systolic.swift) for `make bench`:
// the same work per cycle as ref_os_loop.cpp for the reference array (new A and B beats every
// cycle, a tile's last beat every K = 256 beats, C always taken) without the co-simulation
// driver's stream bookkeeping, so that the array's own simulation cost can be told from the
// host's. Usage: model CYCLES; prints the line of loop_common.h.
#include "Vdut.h"
#include "loop_common.h"

int main(int argc, char** argv) {
    const long cycles = cycles_argument(argc, argv);
    VerilatedContext ctx;
    Vdut m{&ctx, "TOP"};
    m.a_valid = 0;
    m.b_valid = 0;
    m.c_ready = 1;
    m.rst = 1;
    m.clk = 0;
    m.eval();
    m.clk = 1;
    m.eval();
    m.rst = 0;
    m.a_valid = 1;
    m.b_valid = 1;
    uint32_t x = 0x2545F491u;
    uint64_t checksum = 0;
    long beats = 0;
    bool taken = true;
    const auto t0 = std::chrono::steady_clock::now();
    for (long c = 0; c < cycles; ++c) {
        if (taken) {
            fill(m.a_data, x);
            fill(m.b_data, x);
            m.a_last = (beats & 255) == 255;
        }
        m.clk = 0;
        m.eval();
        taken = m.a_ready && m.b_ready;
        beats += taken;
        if (m.c_valid) checksum += fold(m.c_data);
        m.clk = 1;
        m.eval();
    }
    report(cycles, t0, checksum ^ uint64_t(beats));
    m.final();
    return 0;
}
