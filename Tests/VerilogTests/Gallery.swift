import HDL

/// Input values of the combinational gallery, as plain integers (signed ones may be negative).
struct GalleryInputs: Sendable {
    var a = 0    // s8
    var b = 0    // u5
    var c = 0    // s8
    var d = 0    // u8
    var e = 0    // u8
    var n = 0    // u3, a shift amount
    var k = 0    // u4, a larger shift amount (reaches past the width of b)
    var r = 0    // u4, random bits for stochastic rounding
    var x = 0    // s12, the value to round / saturate
    var ux = 0   // u10
    var sel = 0  // u1
    var idx = 0  // u2

    static let shapes: [(String, Shape)] = [
        ("a", .signed(8)), ("b", .unsigned(5)), ("c", .signed(8)), ("d", .unsigned(8)), ("e", .unsigned(8)),
        ("n", .unsigned(3)), ("k", .unsigned(4)), ("r", .unsigned(4)), ("x", .signed(12)), ("ux", .unsigned(10)),
        ("sel", .bit), ("idx", .unsigned(2)),
    ]

    subscript(_ name: String) -> Int {
        get {
            switch name {
            case "a": a
            case "b": b
            case "c": c
            case "d": d
            case "e": e
            case "n": n
            case "k": k
            case "r": r
            case "x": x
            case "ux": ux
            case "sel": sel
            case "idx": idx
            default: fatalError("no input \(name)")
            }
        }
        set {
            switch name {
            case "a": a = newValue
            case "b": b = newValue
            case "c": c = newValue
            case "d": d = newValue
            case "e": e = newValue
            case "n": n = newValue
            case "k": k = newValue
            case "r": r = newValue
            case "x": x = newValue
            case "ux": ux = newValue
            case "sel": sel = newValue
            case "idx": idx = newValue
            default: fatalError("no input \(name)")
            }
        }
    }
}

/// One output of the gallery: its expected shape (worked out by hand from the width rules) and
/// its expected value in plain Int arithmetic.
struct GalleryOutput: Sendable {
    let name: String
    let shape: Shape
    let expected: @Sendable (GalleryInputs) -> Int
}

// Plain-integer helpers for the expectations.
private func low(_ v: Int, _ w: Int) -> Int { v & ((1 << w) - 1) }
private func wrapTo(_ v: Int, _ w: Int, signed: Bool) -> Int {
    let p = low(v, w)
    return signed && p >= 1 << (w - 1) ? p - (1 << w) : p
}
private func clampTo(_ v: Int, _ w: Int, signed: Bool) -> Int {
    let lo = signed ? -(1 << (w - 1)) : 0, hi = signed ? (1 << (w - 1)) - 1 : (1 << w) - 1
    return min(max(v, lo), hi)
}
private func nearestEven(_ x: Int, _ d: Int) -> Int {
    let q = x >> d, rem = x - (q << d), half = 1 << (d - 1)
    return rem > half || (rem == half && q & 1 == 1) ? q + 1 : q
}

enum Gallery {
    /// Every operator of the DSL on mixed shapes, each result on its own output port.
    static let outputs: [GalleryOutput] = [
        // Arithmetic that never overflows.
        GalleryOutput(name: "add_ab", shape: .signed(9)) { $0.a + $0.b },
        GalleryOutput(name: "add_ad", shape: .signed(10)) { $0.a + $0.d },
        GalleryOutput(name: "sub_ab", shape: .signed(9)) { $0.a - $0.b },
        GalleryOutput(name: "sub_ba", shape: .signed(9)) { $0.b - $0.a },
        GalleryOutput(name: "sub_de", shape: .signed(9)) { $0.d - $0.e },
        GalleryOutput(name: "sub_bd", shape: .signed(9)) { $0.b - $0.d },
        GalleryOutput(name: "neg_a", shape: .signed(9)) { -$0.a },
        GalleryOutput(name: "neg_d", shape: .signed(9)) { -$0.d },
        GalleryOutput(name: "add_a_int", shape: .signed(9)) { $0.a + 5 },
        GalleryOutput(name: "sub_d_int", shape: .signed(10)) { $0.d - 300 },
        GalleryOutput(name: "add_d_neg", shape: .signed(10)) { $0.d + (-1) },
        // Wrapping arithmetic.
        GalleryOutput(name: "wadd_ac", shape: .signed(8)) { wrapTo($0.a + $0.c, 8, signed: true) },
        GalleryOutput(name: "wsub_de", shape: .unsigned(8)) { wrapTo($0.d - $0.e, 8, signed: false) },
        GalleryOutput(name: "wadd_ab", shape: .signed(8)) { wrapTo($0.a + $0.b, 8, signed: true) },
        GalleryOutput(name: "wadd_d_int", shape: .unsigned(8)) { wrapTo($0.d + 300, 8, signed: false) },
        // Products: wa + wb bits, exact.
        GalleryOutput(name: "mul_ab", shape: .signed(13)) { $0.a * $0.b },
        GalleryOutput(name: "mul_cd", shape: .signed(16)) { $0.c * $0.d },
        GalleryOutput(name: "mul_ac", shape: .signed(16)) { $0.a * $0.c },
        GalleryOutput(name: "mul_de", shape: .unsigned(16)) { $0.d * $0.e },
        GalleryOutput(name: "mul_bb", shape: .unsigned(10)) { $0.b * $0.b },
        // Bitwise (true values in two's complement, like Swift's Int operators).
        GalleryOutput(name: "and_ab", shape: .signed(8)) { $0.a & $0.b },
        GalleryOutput(name: "or_ab", shape: .signed(8)) { $0.a | $0.b },
        GalleryOutput(name: "xor_cd", shape: .signed(9)) { $0.c ^ $0.d },
        GalleryOutput(name: "and_de", shape: .unsigned(8)) { $0.d & $0.e },
        GalleryOutput(name: "or_bd", shape: .unsigned(8)) { $0.b | $0.d },
        GalleryOutput(name: "not_a", shape: .signed(8)) { ~$0.a },
        GalleryOutput(name: "not_b", shape: .unsigned(5)) { 31 - $0.b },
        GalleryOutput(name: "and_d_int", shape: .unsigned(8)) { $0.d & 0x5A },
        GalleryOutput(name: "xor_a_int", shape: .signed(8)) { $0.a ^ -1 },
        // Comparisons, including mixed signedness (true values, never Verilog's unsigned promotion).
        GalleryOutput(name: "eq_ab", shape: .bit) { $0.a == $0.b ? 1 : 0 },
        GalleryOutput(name: "ne_ad", shape: .bit) { $0.a != $0.d ? 1 : 0 },
        GalleryOutput(name: "lt_ad", shape: .bit) { $0.a < $0.d ? 1 : 0 },
        GalleryOutput(name: "le_ab", shape: .bit) { $0.a <= $0.b ? 1 : 0 },
        GalleryOutput(name: "gt_ac", shape: .bit) { $0.a > $0.c ? 1 : 0 },
        GalleryOutput(name: "ge_bd", shape: .bit) { $0.b >= $0.d ? 1 : 0 },
        GalleryOutput(name: "lt_de", shape: .bit) { $0.d < $0.e ? 1 : 0 },
        GalleryOutput(name: "gt_da", shape: .bit) { $0.d > $0.a ? 1 : 0 },
        GalleryOutput(name: "eq_a_neg1", shape: .bit) { $0.a == -1 ? 1 : 0 },
        GalleryOutput(name: "lt_d_neg1", shape: .bit) { $0.d < -1 ? 1 : 0 },
        GalleryOutput(name: "ge_a_int", shape: .bit) { $0.a >= 100 ? 1 : 0 },
        // Shifts by constants and by signals.
        GalleryOutput(name: "shl_a2", shape: .signed(8)) { wrapTo($0.a << 2, 8, signed: true) },
        GalleryOutput(name: "shr_a2", shape: .signed(8)) { $0.a >> 2 },
        GalleryOutput(name: "shr_d3", shape: .unsigned(8)) { $0.d >> 3 },
        GalleryOutput(name: "shr_a9", shape: .signed(8)) { $0.a >> 9 },
        GalleryOutput(name: "shl_dn", shape: .unsigned(8)) { wrapTo($0.d << $0.n, 8, signed: false) },
        GalleryOutput(name: "shr_dn", shape: .unsigned(8)) { $0.d >> $0.n },
        GalleryOutput(name: "shl_an", shape: .signed(8)) { wrapTo($0.a << $0.n, 8, signed: true) },
        GalleryOutput(name: "shr_an", shape: .signed(8)) { $0.a >> $0.n },
        GalleryOutput(name: "shr_bk", shape: .unsigned(5)) { $0.b >> $0.k },
        GalleryOutput(name: "shr_ck", shape: .signed(8)) { $0.c >> $0.k },
        GalleryOutput(name: "shl_ck", shape: .signed(8)) { wrapTo($0.c << $0.k, 8, signed: true) },
        // Structure.
        GalleryOutput(name: "bits_d", shape: .unsigned(5)) { ($0.d >> 2) & 31 },
        GalleryOutput(name: "bit_a", shape: .bit) { low($0.a, 8) >> 7 },
        GalleryOutput(name: "msb_b", shape: .bit) { $0.b >> 4 },
        GalleryOutput(name: "bits_a_low", shape: .unsigned(3)) { low($0.a, 3) },
        GalleryOutput(name: "cat_abd", shape: .unsigned(21)) { (low($0.a, 8) << 13) | ($0.b << 8) | $0.d },
        GalleryOutput(name: "mux_ab", shape: .signed(8)) { $0.sel == 1 ? $0.a : $0.b },
        GalleryOutput(name: "mux_d_int", shape: .signed(9)) { $0.sel == 1 ? $0.d : -3 },
        GalleryOutput(name: "select_idx", shape: .signed(9)) { [$0.a, $0.b, $0.d, $0.c][$0.idx] },
        GalleryOutput(name: "and_red", shape: .bit) { $0.d == 255 ? 1 : 0 },
        GalleryOutput(name: "or_red", shape: .bit) { $0.a != 0 ? 1 : 0 },
        GalleryOutput(name: "xor_red", shape: .bit) { $0.d.nonzeroBitCount & 1 },
        // Extension and reinterpretation.
        GalleryOutput(name: "ext_a", shape: .signed(12)) { $0.a },
        GalleryOutput(name: "zext_a", shape: .unsigned(12)) { low($0.a, 8) },
        GalleryOutput(name: "sext_b", shape: .signed(7)) { wrapTo($0.b, 5, signed: true) },
        GalleryOutput(name: "ext_b", shape: .unsigned(9)) { $0.b },
        GalleryOutput(name: "asu_a", shape: .unsigned(8)) { low($0.a, 8) },
        GalleryOutput(name: "ass_d", shape: .signed(8)) { wrapTo($0.d, 8, signed: true) },
        // Narrowing.
        GalleryOutput(name: "trunc_a", shape: .signed(5)) { wrapTo($0.a, 5, signed: true) },
        GalleryOutput(name: "trunc_d", shape: .unsigned(3)) { low($0.d, 3) },
        GalleryOutput(name: "sat_a_u4", shape: .unsigned(4)) { clampTo($0.a, 4, signed: false) },
        GalleryOutput(name: "sat_x_s6", shape: .signed(6)) { clampTo($0.x, 6, signed: true) },
        GalleryOutput(name: "sat_d_s5", shape: .signed(5)) { clampTo($0.d, 5, signed: true) },
        GalleryOutput(name: "sat_a_s12", shape: .signed(12)) { $0.a },
        GalleryOutput(name: "rnd_x_trunc", shape: .signed(10)) { $0.x >> 3 },
        GalleryOutput(name: "rnd_x_near", shape: .signed(10)) { nearestEven($0.x, 3) },
        GalleryOutput(name: "rnd_x_stoch", shape: .signed(10)) { ($0.x + ($0.r & 7)) >> 3 },
        GalleryOutput(name: "rnd_x_near1", shape: .signed(12)) { nearestEven($0.x, 1) },
        GalleryOutput(name: "rnd_x_stoch4", shape: .signed(9)) { ($0.x + $0.r) >> 4 },
        GalleryOutput(name: "rnd_ux_trunc", shape: .unsigned(7)) { $0.ux >> 4 },
        GalleryOutput(name: "rnd_ux_near", shape: .unsigned(7)) { nearestEven($0.ux, 4) },
        GalleryOutput(name: "rnd_ux_stoch", shape: .unsigned(7)) { ($0.ux + $0.r) >> 4 },
        GalleryOutput(name: "rnd_x_near0", shape: .signed(13)) { $0.x },
        GalleryOutput(name: "sat_rnd", shape: .signed(4)) { clampTo(nearestEven($0.x, 5), 4, signed: true) },
    ]

    /// The combinational gallery module: one output per entry of `outputs`, in that order.
    static func combinational(name: String = "gallery") throws -> ModuleDefinition {
        try ModuleDefinition.define(name) { m in
            var i: [String: Signal] = [:]
            for (n, s) in GalleryInputs.shapes { i[n] = m.input(n, s) }
            let a = i["a"]!, b = i["b"]!, c = i["c"]!, d = i["d"]!, e = i["e"]!, n = i["n"]!, k = i["k"]!
            let r = i["r"]!, x = i["x"]!, ux = i["ux"]!, sel = i["sel"]!, idx = i["idx"]!
            let built: [String: Signal] = [
                "add_ab": a + b, "add_ad": a + d, "sub_ab": a - b, "sub_ba": b - a, "sub_de": d - e, "sub_bd": b - d,
                "neg_a": -a, "neg_d": -d, "add_a_int": a + 5, "sub_d_int": d - 300, "add_d_neg": d + (-1),
                "wadd_ac": a &+ c, "wsub_de": d &- e, "wadd_ab": a &+ b, "wadd_d_int": d &+ 300,
                "mul_ab": a * b, "mul_cd": c * d, "mul_ac": a * c, "mul_de": d * e, "mul_bb": b * b,
                "and_ab": a & b, "or_ab": a | b, "xor_cd": c ^ d, "and_de": d & e, "or_bd": b | d, "not_a": ~a, "not_b": ~b,
                "and_d_int": d & 0x5A, "xor_a_int": a ^ -1,
                "eq_ab": a .== b, "ne_ad": a .!= d, "lt_ad": a .< d, "le_ab": a .<= b, "gt_ac": a .> c, "ge_bd": b .>= d,
                "lt_de": d .< e, "gt_da": d .> a, "eq_a_neg1": a .== -1, "lt_d_neg1": d .< -1, "ge_a_int": a .>= 100,
                "shl_a2": a << 2, "shr_a2": a >> 2, "shr_d3": d >> 3, "shr_a9": a >> 9,
                "shl_dn": d << n, "shr_dn": d >> n, "shl_an": a << n, "shr_an": a >> n,
                "shr_bk": b >> k, "shr_ck": c >> k, "shl_ck": c << k,
                "bits_d": d.bits(6, 2), "bit_a": a.bit(7), "msb_b": b.msb, "bits_a_low": a.bits(2, 0),
                "cat_abd": cat(a, b, d), "mux_ab": mux(sel, a, b), "mux_d_int": mux(sel, d, -3),
                "select_idx": select(idx, [a, b, d], default: c),
                "and_red": d.andReduce(), "or_red": a.orReduce(), "xor_red": d.xorReduce(),
                "ext_a": a.extended(to: 12), "zext_a": a.zeroExtended(to: 12), "sext_b": b.signExtended(to: 7),
                "ext_b": b.extended(to: 9), "asu_a": a.asUnsigned, "ass_d": d.asSigned,
                "trunc_a": a.truncated(to: 5), "trunc_d": d.truncated(to: 3),
                "sat_a_u4": a.saturated(to: .unsigned(4)), "sat_x_s6": x.saturated(to: .signed(6)),
                "sat_d_s5": d.saturated(to: .signed(5)), "sat_a_s12": a.saturated(to: .signed(12)),
                "rnd_x_trunc": x.roundedShiftRight(by: 3, mode: .truncate),
                "rnd_x_near": x.roundedShiftRight(by: 3, mode: .nearestEven),
                "rnd_x_stoch": x.roundedShiftRight(by: 3, mode: .stochastic(random: r)),
                "rnd_x_near1": x.roundedShiftRight(by: 1, mode: .nearestEven),
                "rnd_x_stoch4": x.roundedShiftRight(by: 4, mode: .stochastic(random: r)),
                "rnd_ux_trunc": ux.roundedShiftRight(by: 4, mode: .truncate),
                "rnd_ux_near": ux.roundedShiftRight(by: 4, mode: .nearestEven),
                "rnd_ux_stoch": ux.roundedShiftRight(by: 4, mode: .stochastic(random: r)),
                "rnd_x_near0": x.roundedShiftRight(by: 0, mode: .nearestEven),
                "sat_rnd": x.roundedShiftRight(by: 5, mode: .nearestEven).saturated(to: .signed(4)),
            ]
            for o in outputs { m.output(o.name, built[o.name]!.named(o.name + "_v")) }
        }
    }

    /// A small leaf: registered sum with enable and synchronous reset.
    static func leaf() throws -> ModuleDefinition {
        try ModuleDefinition.define("acc_leaf") { m in
            let en = m.input("en", .bit), v = m.input("v", .signed(8))
            let acc = m.register("acc_q", .signed(12), reset: -3, enable: en)
            acc.assign(acc &+ v.extended(to: 12))
            m.output("acc", acc)
        }
    }

    /// A middle level: two leaves and a pipeline register without reset.
    static func middle() throws -> ModuleDefinition {
        let l = try leaf()
        return try ModuleDefinition.define("acc_pair") { m in
            let en = m.input("en", .bit), p = m.input("p", .signed(8)), q = m.input("q", .signed(8))
            let u0 = m.instance(l, name: "u0", ["en": en, "v": p])
            let u1 = m.instance(l, name: "u1", ["en": ~en, "v": q])
            let sum = m.register("sum_q", .signed(13), reset: nil)
            sum.assign(u0["acc"] + u1["acc"])
            m.output("sum", sum)
        }
    }

    /// A RAM with one write port and a synchronous (registered) read port.
    static func ram() throws -> ModuleDefinition {
        try ModuleDefinition.define("sync_ram") { m in
            let we = m.input("we", .bit), re = m.input("re", .bit)
            let waddr = m.input("waddr", .unsigned(6)), raddr = m.input("raddr", .unsigned(6))
            let wdata = m.input("wdata", .unsigned(16))
            let mem = m.memory("store", width: 16, depth: 64)
            mem.write(address: waddr, data: wdata, enable: we)
            m.output("rdata", mem.readSync(address: raddr, enable: re))
        }
    }

    /// Everything together: the combinational gallery, a two-level hierarchy, the RAM, a register
    /// with enable and reset, one without reset, unused input bits and slices of a wide signal.
    static func system() throws -> ModuleDefinition {
        let comb = try combinational()
        let pair = try middle()
        let mem = try ram()
        return try ModuleDefinition.define("system") { m in
            var conns: [String: Signal] = [:]
            for (n, s) in GalleryInputs.shapes { conns[n] = m.input("g_" + n, s) }
            let g = m.instance(comb, name: "gallery0", conns)
            let en = m.input("en", .bit)
            let wide = m.input("wide", .unsigned(200))
            let spare = m.input("spare", .unsigned(16))  // only bits 11:4 are read
            let pair0 = m.instance(pair, name: "pair0", ["en": en, "p": g["wadd_ac"], "q": spare.bits(11, 4).asSigned])
            let ram0 = m.instance(mem, name: "ram0", [
                "we": en, "re": ~en, "waddr": wide.bits(5, 0), "raddr": wide.bits(199, 194),
                "wdata": wide.bits(120, 105),
            ])
            let held = m.register("held_q", .unsigned(16), reset: 0xBEEF, enable: en)
            held.assign(ram0["rdata"] ^ g["mul_de"])
            let free = m.register("free_q", .signed(13), reset: nil)
            free.assign(pair0["sum"])
            // Fold every gallery output into one checksum so none of it is dead.
            var fold = m.constant(0, .unsigned(21))
            for o in Gallery.outputs {
                let v = g[o.name]
                fold = fold ^ v.asUnsigned.zeroExtended(to: 21)
            }
            m.output("checksum", fold)
            m.output("held", held)
            m.output("free", free)
            m.output("wide_mid", wide.bits(150, 130) ^ wide.bits(20, 0))
        }
    }
}
