// Shared by the bare C++ loops of `make bench` (ref_os_loop.cpp, systolic_loop.cpp): a fast
// operand generator, port filling for any Verilator port type, and the report line.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "verilated.h"

// xorshift32: a new operand word per call, cheap next to a simulated cycle.
static inline uint32_t next_word(uint32_t& x) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

// Fills an input port with random bits (every word of a wide one; the widths used here are
// whole 32-bit words, so no bits past the port's width are set).
template <std::size_t W> static inline void fill(VlWide<W>& p, uint32_t& x) {
    for (std::size_t k = 0; k < W; ++k) p[k] = next_word(x);
}
static inline void fill(QData& p, uint32_t& x) { p = (QData(next_word(x)) << 32) | next_word(x); }
static inline void fill(IData& p, uint32_t& x) { p = next_word(x); }

// A checksum of an output of any width, so the compiler cannot drop the read-out.
template <std::size_t W> static inline uint64_t fold(const VlWide<W>& p) {
    uint64_t s = 0;
    for (std::size_t k = 0; k < W; ++k) s = s * 31 + p[k];
    return s;
}
static inline uint64_t fold(uint64_t v) { return v; }

static inline long cycles_argument(int argc, char** argv) {
    const long n = argc > 1 ? atol(argv[1]) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: %s CYCLES\n", argv[0]);
        exit(2);
    }
    return n;
}

// The line `make bench` reads: cycles, seconds, checksum.
static inline void report(long cycles, std::chrono::steady_clock::time_point t0, uint64_t checksum) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    printf("cycles %ld seconds %.6f checksum %016llx\n", cycles, s, (unsigned long long)checksum);
}
