import Cores
import HDL

extension Accelerator {
    /// Controller states: FETCH (from the buffer, or start a fetch), FETCH_WAIT (the fetch's
    /// data), EXEC (decode, check, start or wait), GEMM (until the feed has issued K beats),
    /// OUTPUT (post-processing bank C rows).
    enum State: Int, CaseIterable {
        case idle = 0, fetch, fetchWait, exec, gemm, output
    }

    /// Read-DMA destinations (`read_dest_q`).
    enum Destination: Int { case bankA = 0, bankB = 1, instructions = 2, bankC = 3 }

    /// Controller, DMA, banks and the array.
    static func core(_ c: AcceleratorConfig) throws -> ModuleDefinition {
        let arrayDef = try Systolic.module(c.array)
        let array = Systolic.Interface(c.array)
        let tileQueue = FIFOConfig(width: 16, depth: AcceleratorConfig.tilesInFlight)
        let lenQueue = FIFOConfig(width: 8, depth: 4)
        let rowQueue = FIFOConfig(width: c.rowBits(.c), depth: AcceleratorConfig.storeQueueRows)
        let (tileQueueDef, lenQueueDef, rowQueueDef) = (try FIFO.module(tileQueue), try FIFO.module(lenQueue), try FIFO.module(rowQueue))
        let io = Interface(c), k = CoreInterface()
        let D = c.dataBits, beatBytes = c.beatBytes, logBeat = beatBytes.trailingZeroBitCount
        let (R, wideBits) = (c.array.rows, 66)
        let slots = max(c.rowBeats(.a), c.rowBeats(.b), c.rowBeats(.c), c.instructionBeats)
        let cSlots = c.rowBeats(.c)

        return try ModuleDefinition.define(c.moduleName + "_core") { m in
            let u = Updates(m)
            func const(_ v: Int, _ w: Int) -> Signal { m.constant(Int128(v), .unsigned(w)) }
            let one = const(1, 1)
            let axi = m.axi4(io.axi)
            let start = m.input(k.start), abort = m.input(k.abort)
            let progBase = m.input(k.progBase), progLen = m.input(k.progLen)
            let winBase = m.input(k.winBase), winSize = m.input(k.winSize)

            let state = u.reg("state_q", 3)
            func inState(_ s: State) -> Signal { state.q .== s.rawValue }
            let pc = u.reg("pc_q", 32)
            let instr = u.reg("instr_q", 128, reset: nil)
            func field(_ f: ISA.Field) -> Signal { instr.q.bits(f.lo + f.bits - 1, f.lo) }

            // Address checks, on 66 bits so no sum wraps: [start, end) inside the window and the
            // address space.
            let winEnd = winBase.zeroExtended(to: wideBits) &+ winSize.zeroExtended(to: wideBits)
            let space = m.constant(Int128(1) << c.addressBits, .unsigned(wideBits))
            func inWindow(_ first: Signal, _ end: Signal) -> Signal {
                (first .>= winBase) & (end .<= winEnd) & (end .<= space)
            }
            func aligned(_ v: Signal, _ log: Int) -> Signal { log == 0 ? one : v.bits(log - 1, 0) .== 0 }

            // MARK: Read DMA: bursts out on AR, beats in on R, assembled into bank rows or
            // instructions.
            let readGo = m.wire("read_go", .bit)
            let readAddr = m.wire("read_addr", .unsigned(64)), readRows = m.wire("read_rows", .unsigned(16))
            let readStride = m.wire("read_stride", .unsigned(24)), readBeats = m.wire("read_row_beats", .unsigned(9))
            let ar = issuer(m, u, "ar", channel: axi.ar, go: readGo, addr: readAddr, rows: readRows, stride: readStride,
                            rowBeats: readBeats, allow: ~abort, c: c)
            let readOutstanding = u.reg("read_outstanding_q", 16)
            let rFire = axi.r.valid
            axi.r.ready!.assign(one)
            readOutstanding.set(m.constant(1, .bit), (readOutstanding.q &+ mux(ar.fire, ar.len.zeroExtended(to: 16) &+ 1, 0)) &- rFire.zeroExtended(to: 16))
            let readDone = (ar.idle & (readOutstanding.q .== 0)).named("read_done")
            let readError = u.reg("read_error_q", 1)
            readError.set(rFire & (axi.r["resp"] .!= 0), 1)
            readError.set(start & (state.q .== State.idle.rawValue), 0)
            // Row assembly: beat b of a row goes to slot b; the row is written with its last beat.
            let dest = u.reg("read_dest_q", 2), destRow = u.reg("read_row_q", 16), beat = u.reg("read_beat_q", 9)
            let rowBeatsQ = u.reg("read_beats_q", 9)
            let lastBeat = (beat.q .== rowBeatsQ.q &- 1).named("read_last_beat")
            var slotRegs: [Signal] = [], rowNow: [Signal] = []
            for s in 0..<slots {
                let take = (rFire & (beat.q .== s)).named("read_slot_\(s)_take")
                let slot = m.register("read_slot_\(s)", .unsigned(D), reset: nil, enable: take)
                slot.assign(axi.r.data)
                slotRegs.append(slot)
                rowNow.append(mux(take, axi.r.data, slot))
            }
            let row = cat(rowNow.reversed())
            let rowDone = (rFire & lastBeat).named("read_row_done")
            beat.set(rFire, mux(lastBeat, const(0, 9), beat.q &+ 1))
            destRow.set(rowDone, destRow.q &+ 1)

            // MARK: Banks.
            let bankA = m.memory("bank_a", width: c.rowBits(.a), depth: c.depth(.a))
            let bankB = m.memory("bank_b", width: c.rowBits(.b), depth: c.depth(.b))
            let bankC = m.memory("bank_c", width: c.rowBits(.c), depth: c.depth(.c))
            // OUTPUT's writes (bank A: transposed activations; bank C: results in place) and
            // reads (bank C), on the ports LOADs, the array and STOREs use: OUTPUT runs only while
            // none of those touch the bank.
            let outAWrite = m.wire("output_a_write", .bit), outARow = m.wire("output_a_row", .unsigned(16))
            let outAData = m.wire("output_a_data", .unsigned(c.rowBits(.a)))
            let outCWrite = m.wire("output_c_write", .bit), outCRow = m.wire("output_c_row", .unsigned(16))
            let outCData = m.wire("output_c_data", .unsigned(c.rowBits(.c)))
            let outCRead = m.wire("output_c_read", .bit), outCReadRow = m.wire("output_c_read_row", .unsigned(16))
            let loadRowA = rowDone & (dest.q .== Destination.bankA.rawValue)
            bankA.write(address: fit(mux(outAWrite, outARow, destRow.q), bankA.addressWidth),
                        data: mux(outAWrite, outAData, row.bits(c.rowBits(.a) - 1, 0)), enable: loadRowA | outAWrite)
            bankB.write(address: fit(destRow.q, bankB.addressWidth), data: row.bits(c.rowBits(.b) - 1, 0), enable: rowDone & (dest.q .== 1))
            // Instructions arrive in a small buffer, up to `instructionBuffer` per fetch, so one
            // DRAM latency serves many instructions.
            let depthI = AcceleratorConfig.instructionBuffer, logI = depthI.trailingZeroBitCount
            let ibuf = m.memory("instruction_buffer", width: 128, depth: depthI)
            ibuf.write(address: destRow.q.bits(logI - 1, 0), data: row.bits(127, 0), enable: rowDone & (dest.q .== Destination.instructions.rawValue))

            // MARK: Write DMA: bank C rows through a small queue into W beats; AW bursts as for AR,
            // each burst's length queued for the W side.
            let writeGo = m.wire("write_go", .bit)
            let lens = m.wire("len_queue_in_ready", .bit)
            let aw = issuer(m, u, "aw", channel: axi.aw, go: writeGo, addr: readAddr, rows: readRows, stride: readStride,
                            rowBeats: const(cSlots, 9), allow: ~abort & lens, c: c)
            let lenQ = FIFO.Interface(lenQueue)
            let wLeft = u.reg("w_left_q", 9), wBeat = u.reg("w_beat_q", 9)
            let wFire = axi.w.fire
            let burstEnds = (wLeft.q .== 0) | (wFire & (wLeft.q .== 1))
            let lenQueueInst = m.instance(lenQueueDef, name: "len_queue", connecting: [lenQ.inValid: aw.load, lenQ.inData: aw.nextLen, lenQ.outReady: burstEnds])
            lens.assign(lenQueueInst[lenQ.inReady])
            let newBurst = (burstEnds & lenQueueInst[lenQ.outValid]).named("w_new_burst")
            wLeft.set(wFire, wLeft.q &- 1)
            wLeft.set(newBurst, lenQueueInst[lenQ.outData].zeroExtended(to: 9) &+ 1)
            // Rows of bank C, read ahead into the row queue while it has room (credits).
            let rowsToRead = u.reg("store_rows_q", 16), readRow = u.reg("store_row_q", 16)
            let credits = u.reg("store_credits_q", 3, reset: Int128(AcceleratorConfig.storeQueueRows))
            let issueRead = ((rowsToRead.q .!= 0) & (credits.q .!= 0)).named("store_read")
            let rowRead = bankC.readSync(address: fit(mux(outCRead, outCReadRow, readRow.q), bankC.addressWidth), enable: issueRead | outCRead)
            let rowArrives = m.delay(issueRead, name: "store_read_valid")
            let rowQ = FIFO.Interface(rowQueue)
            let lastOfRow = (wBeat.q .== cSlots - 1)
            let rowPop = (wFire & lastOfRow).named("store_row_pop")
            let rowQueueInst = m.instance(rowQueueDef, name: "row_queue", connecting: [rowQ.inValid: rowArrives, rowQ.inData: rowRead, rowQ.outReady: rowPop])
            rowsToRead.set(issueRead, rowsToRead.q &- 1)
            readRow.set(issueRead, readRow.q &+ 1)
            credits.set(m.constant(1, .bit), (credits.q &- issueRead.zeroExtended(to: 3)) &+ rowPop.zeroExtended(to: 3))
            wBeat.set(wFire, mux(lastOfRow, const(0, 9), wBeat.q &+ 1))
            let headRow = rowQueueInst[rowQ.outData]
            let padded = cSlots * D > headRow.width ? headRow.zeroExtended(to: cSlots * D) : headRow
            let beatsOfRow = (0..<cSlots).map { padded.bits($0 * D + D - 1, $0 * D) }
            axi.w.valid.assign((wLeft.q .!= 0) & rowQueueInst[rowQ.outValid])
            axi.w.data.assign(cSlots == 1 ? beatsOfRow[0] : select(fit(wBeat.q, max(1, ceilLog2(cSlots))), beatsOfRow, default: beatsOfRow[0]))
            axi.w["strb"].assign(m.constant((Int128(1) << beatBytes) - 1, .unsigned(beatBytes)))
            axi.w.last!.assign(wLeft.q .== 1)
            let writeOutstanding = u.reg("write_outstanding_q", 16)
            axi.b.ready!.assign(one)
            writeOutstanding.set(m.constant(1, .bit), (writeOutstanding.q &+ aw.fire.zeroExtended(to: 16)) &- axi.b.fire.zeroExtended(to: 16))
            let writeError = u.reg("write_error_q", 1)
            writeError.set(axi.b.fire & (axi.b["resp"] .!= 0), 1)
            writeError.set(start & (state.q .== State.idle.rawValue), 0)
            let wIdle = (wLeft.q .== 0) & ~lenQueueInst[lenQ.outValid]
            let writeDone = (aw.idle & wIdle & (writeOutstanding.q .== 0)).named("write_done")
            // A background LOAD or STORE that met an AXI error, all its traffic over.
            let loadFailed = (readDone & readError.q).named("load_failed")
            let writeFailed = (writeDone & writeError.q).named("store_failed")
            // Nothing in flight on AXI: no address offered, every read beat and write response
            // in, no W burst unfinished (issuers that an abort stopped may still hold rows).
            m.output(k.quiescent, ~ar.valid & (readOutstanding.q .== 0) & ~aw.valid & wIdle & (writeOutstanding.q .== 0))

            // MARK: GEMM feed: rows of A and B read together, held until the array takes them.
            let feedA = u.reg("feed_a_q", 16), feedB = u.reg("feed_b_q", 16), feedK = u.reg("feed_k_q", 16)
            let feedValid = u.reg("feed_valid_q", 1), feedLast = u.reg("feed_last_q", 1)
            let arrayFire = m.wire("array_fire", .bit)
            let advance = (~feedValid.q | arrayFire).named("feed_advance")
            let issueBeat = (advance & (feedK.q .!= 0)).named("feed_issue")
            let aData = bankA.readSync(address: fit(feedA.q, bankA.addressWidth), enable: advance)
            let bData = bankB.readSync(address: fit(feedB.q, bankB.addressWidth), enable: advance)
            feedValid.set(advance, issueBeat)
            feedLast.set(advance, feedK.q .== 1)
            feedA.set(issueBeat, feedA.q &+ 1); feedB.set(issueBeat, feedB.q &+ 1); feedK.set(issueBeat, feedK.q &- 1)

            // The array, restarted (LFSRs from their seeds) by reset or CONFIG's reseed.
            let shift = u.reg("shift_q", array.shift!.shape.width, reset: Int128(c.array.dropBits))
            let reseed = u.reg("reseed_q", 1)
            let arrayInst = m.instance(arrayDef, name: "array", [
                array.a.valid.name: feedValid.q, array.a.data!.name: aData, array.a.last!.name: feedLast.q,
                array.b.valid.name: feedValid.q, array.b.data!.name: bData, array.c.ready!.name: one,
                array.shift!.name: shift.q, Port.reset.name: (m.reset | reseed.q).named("array_rst"),
            ])
            arrayFire.assign(feedValid.q & arrayInst[array.a.ready!])
            // Output rows land in bank C at the row their GEMM named (one queue entry per tile).
            let tileQ = FIFO.Interface(tileQueue)
            let cFire = arrayInst[array.c.valid]
            let cLast = arrayInst[array.c.last!]
            let gemmGo = m.wire("gemm_go", .bit)
            let tiles = m.instance(tileQueueDef, name: "tile_queue", connecting: [
                tileQ.inValid: gemmGo, tileQ.inData: field(ISA.GEMM.c), tileQ.outReady: cFire & cLast,
            ])
            let outRow = u.reg("out_row_q", 16)
            outRow.set(cFire, mux(cLast, const(0, 16), outRow.q &+ 1))
            // Bank C's one write port: a LOAD's rows (biases), OUTPUT's results, the array's rows.
            let loadRowC = rowDone & (dest.q .== Destination.bankC.rawValue)
            let cAddress = mux(loadRowC, destRow.q, mux(outCWrite, outCRow, tiles[tileQ.outData] &+ outRow.q))
            let cData = mux(loadRowC, row.bits(c.rowBits(.c) - 1, 0), mux(outCWrite, outCData, arrayInst[array.c.data!]))
            bankC.write(address: fit(cAddress, bankC.addressWidth), data: cData, enable: loadRowC | outCWrite | cFire)
            let tilesPending = tiles[tileQ.outValid]
            let arrayIdle = (~tilesPending & ~feedValid.q & (feedK.q .== 0)).named("array_idle")

            // MARK: Controller.
            let busy = ~inState(.idle)
            let fail = m.wire("fail_now", .bit), failWith = m.wire("fail_with", .unsigned(4))
            let finish = m.wire("finish_now", .bit)
            // Fetch: from the instruction buffer when the PC is in it; else check the PC and the
            // addresses, then read up to `instructionBuffer` instructions into it.
            let bufBase = u.reg("buffer_base_q", 32), bufCount = u.reg("buffer_count_q", logI + 1)
            let offsetInBuffer = (pc.q &- bufBase.q).named("buffer_offset")
            let hit = (offsetInBuffer .< bufCount.q).named("buffer_hit")
            let remaining = (progLen &- pc.q).named("instructions_left")
            let fetchCount = mux(remaining .< depthI, remaining.truncated(to: logI + 1), const(depthI, logI + 1)).named("fetch_count")
            let fetchAddr = (progBase &+ (pc.q.zeroExtended(to: 64) << 4)).named("fetch_addr")
            let fetchEnd = (fetchAddr.zeroExtended(to: wideBits) &+ (fetchCount.zeroExtended(to: wideBits) << 4)).named("fetch_end")
            let fetchCheck: [(Signal, AcceleratorError)] = [
                (pc.q .>= progLen, .programEnd), (~aligned(progBase, 4), .misaligned), (~inWindow(fetchAddr, fetchEnd), .outsideWindow),
            ]
            let buffered = (inState(.fetch) & ~abort & hit).named("fetch_hit")
            instr.set(buffered, ibuf.read(address: offsetInBuffer.bits(logI - 1, 0)))
            state.set(buffered, State.exec.rawValue)
            let fetching = (inState(.fetch) & ~abort & ~hit).named("fetching")
            let fetchFault = fetchCheck.map(\.0).reduce(const(0, 1)) { $0 | $1 }
            // A LOAD runs in the background; a fetch waits for it (one read engine).
            let fetchGo = (fetching & readDone & ~readError.q & ~writeFailed & ~fetchFault).named("fetch_go")
            bufBase.set(fetchGo, pc.q)
            bufCount.set(fetchGo, fetchCount)
            state.set(fetchGo, State.fetchWait.rawValue)
            state.set(inState(.fetchWait) & readDone & ~readGo & ~readError.q, State.fetch.rawValue)

            // Decode.
            let op = field(ISA.opcode)
            let atExec = inState(.exec) & ~abort
            let exec = (atExec & ~loadFailed & ~writeFailed).named("exec")
            func opIs(_ o: ISA.Opcode) -> Signal { exec & (op .== o.rawValue) }
            // A LOAD goes on in the background: the next LOAD waits for it, and a GEMM waits only
            // while rows it reads are still to arrive (rows [load_row, load_end) of the bank).
            let loadEnd = u.reg("load_end_q", 17)
            let gA = field(ISA.GEMM.a), gB = field(ISA.GEMM.b), gK = field(ISA.GEMM.k), gC = field(ISA.GEMM.c)
            func arriving(_ bank: Int, _ first: Signal) -> Signal {
                ~readDone & (dest.q .== bank) & (first .< loadEnd.q) & (first + gK .> destRow.q)
            }
            // A LOAD into bank C (biases) shares the array's write port: GEMMs wait for all of it.
            let loadingC = (~readDone & (dest.q .== Destination.bankC.rawValue)).named("loading_bank_c")
            let rowsArriving = (arriving(0, gA) | arriving(1, gB) | loadingC).named("gemm_waits_for_load")
            // A STORE goes on in the background too: the next STORE waits until the previous one
            // has issued its addresses and read its rows out of bank C (its data and responses
            // may still be on their way), and a GEMM waits until those rows are read, since its
            // outputs may land on them.
            let storeReading = (rowsToRead.q .!= 0).named("store_reading")
            let storeEngineFree = (aw.idle & ~storeReading).named("store_engine_free")
            let bankField = field(ISA.Transfer.bank)
            let isLoad = opIs(.load) & readDone & ((bankField .!= 2) | arrayIdle)
            let isStore = opIs(.store) & arrayIdle & storeEngineFree & ~writeError.q
            let isGemm = opIs(.gemm) & tiles[tileQ.inReady] & ~rowsArriving & ~storeReading
            let isConfig = opIs(.config) & arrayIdle
            let isFinish = opIs(.finish) & arrayIdle & readDone & ~readError.q & writeDone & ~writeError.q
            let known = ISA.Opcode.allCases.map { op .== $0.rawValue }.reduce(const(0, 1)) { $0 | $1 }
            // LOAD and STORE operands.
            let tRow = field(ISA.Transfer.row), tRows = field(ISA.Transfer.rows)
            let tStride = field(ISA.Transfer.stride), tDram = field(ISA.Transfer.dram)
            let opStore = op .== ISA.Opcode.store.rawValue
            let bankIsC = opStore | (bankField .== 2)
            let rowBytes = mux(bankIsC, const(c.rowBytes(.c), 16), mux(bankField .== 0, const(c.rowBytes(.a), 16), const(c.rowBytes(.b), 16)))
            let depth = mux(bankIsC, const(c.depth(.c), 17), mux(bankField .== 0, const(c.depth(.a), 17), const(c.depth(.b), 17)))
            let span = ((tRows &- 1) * tStride).named("transfer_span")
            let tEnd = ((tDram.zeroExtended(to: wideBits) &+ span.zeroExtended(to: wideBits)) &+ rowBytes.zeroExtended(to: wideBits)).named("transfer_end")
            let transferCheck: [(Signal, AcceleratorError)] = [
                (mux(opStore, bankField .!= 2, bankField .> 2), .badOperand),
                ((tRows .== 0) | (tRow.zeroExtended(to: 18) + tRows.zeroExtended(to: 18) .> depth), .tooLarge),
                (~aligned(tDram, logBeat) | ~aligned(tStride, logBeat), .misaligned),
                (~inWindow(tDram, tEnd), .outsideWindow),
            ]
            let gemmCheck: [(Signal, AcceleratorError)] = [
                ((gK .== 0) | (gA + gK .> c.depth(.a)) | (gB + gK .> c.depth(.b)) | (gC + R .> c.depth(.c)), .tooLarge),
            ]
            // OUTPUT's operands.
            let oC = field(ISA.Output.c), oRowsField = field(ISA.Output.rows), oBiasField = field(ISA.Output.bias), oAField = field(ISA.Output.a)
            let useBias = field(ISA.Output.useBias).bit(0), toA = field(ISA.Output.toA).bit(0), relu = field(ISA.Output.relu).bit(0)
            let aRowsWritten = (oRowsField.zeroExtended(to: 24) * const(c.array.cols, 8)).truncated(to: 24)
            let outputCheck: [(Signal, AcceleratorError)] = [
                ((oRowsField .== 0) | (oC.zeroExtended(to: 18) + oRowsField.zeroExtended(to: 18) .> c.depth(.c))
                    | (useBias & (oBiasField.zeroExtended(to: 18) + oRowsField.zeroExtended(to: 18) .> c.depth(.c)))
                    | (toA & (oAField.zeroExtended(to: 25) + aRowsWritten.zeroExtended(to: 25) .> c.depth(.a))), .tooLarge),
            ]
            let configCheck: [(Signal, AcceleratorError)] = [
                (field(ISA.Config.setShift).bit(0) & (field(ISA.Config.shift) .> c.array.dropBits), .badOperand),
            ]
            // The first failing check of a list, and its code.
            func firstFailure(_ checks: [(Signal, AcceleratorError)]) -> (Signal, Signal) {
                checks.reversed().reduce((const(0, 1), const(0, 4))) { acc, check in
                    (check.0 | acc.0, mux(check.0, const(check.1.rawValue, 4), acc.1))
                }
            }
            let (transferBad, transferCode) = firstFailure(transferCheck)
            let (gemmBad, gemmCode) = firstFailure(gemmCheck)
            let (configBad, configCode) = firstFailure(configCheck)
            let (outputBad, outputCode) = firstFailure(outputCheck)
            // OUTPUT waits until nothing else uses the ports it takes: every tile landed, no STORE
            // reading bank C, no LOAD writing bank A or C.
            let loadingAorC = ~readDone & ((dest.q .== Destination.bankA.rawValue) | (dest.q .== Destination.bankC.rawValue))
            let isOutput = opIs(.output) & arrayIdle & ~storeReading & ~loadingAorC
            let outputGo = (isOutput & ~outputBad).named("output_go")
            let (fetchBad, fetchCode) = firstFailure(fetchCheck)
            let loadGo = (isLoad & ~transferBad & ~readError.q).named("load_go")
            let storeGo = (isStore & ~transferBad).named("store_go")
            gemmGo.assign(isGemm & ~gemmBad)
            let configGo = (isConfig & ~configBad).named("config_go")
            finish.assign(isFinish)

            // Read DMA requests: a fetch (16-byte rows into the instruction buffer) or a LOAD.
            readGo.assign(fetchGo | loadGo)
            readAddr.assign(mux(fetching, fetchAddr, tDram))
            readRows.assign(mux(fetching, fetchCount.zeroExtended(to: 16), tRows))
            readStride.assign(mux(fetching, const(ISA.instructionBytes, 24), tStride))
            let loadBeats = mux(bankField .== 0, const(c.rowBeats(.a), 9), mux(bankField .== 1, const(c.rowBeats(.b), 9), const(c.rowBeats(.c), 9)))
            readBeats.assign(mux(fetching, const(c.instructionBeats, 9), loadBeats))
            writeGo.assign(storeGo)
            dest.set(readGo, mux(fetching, const(Destination.instructions.rawValue, 2),
                                 mux(bankField .== 2, const(Destination.bankC.rawValue, 2), bankField.bits(1, 0))))
            destRow.set(readGo, mux(fetching, const(0, 16), tRow))
            loadEnd.set(loadGo, tRow.zeroExtended(to: 17) &+ tRows.zeroExtended(to: 17))
            beat.set(readGo, 0)
            rowBeatsQ.set(readGo, readBeats)
            rowsToRead.set(storeGo, tRows)
            readRow.set(storeGo, tRow)
            feedA.set(gemmGo, gA); feedB.set(gemmGo, gB); feedK.set(gemmGo, gK)
            shift.set(configGo & field(ISA.Config.setShift).bit(0), fit(field(ISA.Config.shift), shift.q.width))
            reseed.set(m.constant(1, .bit), configGo & field(ISA.Config.reseed).bit(0))

            // OUTPUT, row by row: read the bias row, read the row (the bias row arrives), write
            // the result in place (the row arrives), then with to_a C cycles of writes to bank A.
            let oPhase = u.reg("output_phase_q", 2), oLane = u.reg("output_lane_q", 8)
            let oSrc = u.reg("output_row_q", 16), oBias = u.reg("output_bias_q", 16), oLeft = u.reg("output_rows_q", 16), oA = u.reg("output_a_q", 16)
            let C = c.array.cols, wOut = c.array.outputCode.width, wA = c.array.aCode.width
            let biasQ = m.register("output_bias_row_q", .unsigned(c.rowBits(.c)), reset: nil, enable: inState(.output) & (oPhase.q .== 1))
            biasQ.assign(mux(useBias, rowRead, const(0, c.rowBits(.c))))
            // Per lane: sat_out(x + bias), ReLU, and for to_a sat_A.
            var wide: [Signal] = [], narrow: [Signal] = []
            for j in 0..<C {
                let x = rowRead.bits(j * wOut + wOut - 1, j * wOut).asSigned, b = biasQ.bits(j * wOut + wOut - 1, j * wOut).asSigned
                let sum = (x + b).saturated(to: .signed(wOut))
                let y = mux(relu & sum.msb, m.constant(0, .signed(wOut)), sum)
                wide.append(y.asUnsigned)
                narrow.append(y.saturated(to: .signed(wA)).asUnsigned)
            }
            let narrowRow = cat(narrow.reversed())
            let resultRow = mux(toA, narrowRow.zeroExtended(to: c.rowBits(.c)), cat(wide.reversed())).named("output_result")
            let resultQ = m.register("output_result_q", .unsigned(C * wA), reset: nil, enable: inState(.output) & (oPhase.q .== 2))
            resultQ.assign(narrowRow)
            let lanes = (0..<C).map { resultQ.bits($0 * wA + wA - 1, $0 * wA) }
            let laneBits = max(1, ceilLog2(C))
            let laneValue = C == 1 ? lanes[0] : select(oLane.q.bits(laneBits - 1, 0), lanes, default: lanes[0])
            let inOutput = inState(.output)
            outCRead.assign(inOutput & (oPhase.q .< 2))
            outCReadRow.assign(mux(oPhase.q .== 0, oBias.q, oSrc.q))
            outCWrite.assign(inOutput & (oPhase.q .== 2))
            outCRow.assign(oSrc.q)
            outCData.assign(resultRow)
            outAWrite.assign(inOutput & (oPhase.q .== 3))
            outARow.assign(oA.q)
            outAData.assign(laneValue.zeroExtended(to: c.rowBits(.a)))
            let lastLane = oLane.q .== C - 1
            let rowEnds = inOutput & (((oPhase.q .== 2) & ~toA) | ((oPhase.q .== 3) & lastLane))
            let outputEnds = (rowEnds & (oLeft.q .== 1)).named("output_ends")
            oPhase.set(inOutput & (oPhase.q .< 2), oPhase.q &+ 1)
            oPhase.set(inOutput & (oPhase.q .== 2) & toA, 3)
            oLane.set(inOutput & (oPhase.q .== 2), 0)
            oLane.set(outAWrite, oLane.q &+ 1)
            oA.set(outAWrite, oA.q &+ 1)
            oPhase.set(rowEnds, 0)
            oSrc.set(rowEnds, oSrc.q &+ 1); oBias.set(rowEnds, oBias.q &+ 1); oLeft.set(rowEnds, oLeft.q &- 1)
            oPhase.set(outputGo, 0)
            oSrc.set(outputGo, oC); oBias.set(outputGo, oBiasField); oLeft.set(outputGo, oRowsField); oA.set(outputGo, oAField)

            let next = m.wire("next_instruction", .bit)
            state.set(gemmGo, State.gemm.rawValue)
            state.set(outputGo, State.output.rawValue)
            let gemmEnds = inState(.gemm) & (feedK.q .== 0)
            next.assign(configGo | loadGo | storeGo | gemmEnds | outputEnds)
            pc.set(next, pc.q &+ 1)
            state.set(next, State.fetch.rawValue)
            state.set(finish, State.idle.rawValue)

            // Failures: the first check that fails, or an AXI error once the transfer is over.
            let failures: [(Signal, Signal)] = [
                (fetching & fetchBad, fetchCode),
                // A background LOAD or STORE that met an AXI error stops the program at the next
                // instruction boundary (the PC there).
                ((fetching | atExec) & loadFailed, const(AcceleratorError.axiRead.rawValue, 4)),
                ((fetching | atExec) & writeFailed, const(AcceleratorError.axiWrite.rawValue, 4)),
                (inState(.fetchWait) & readDone & readError.q, const(AcceleratorError.axiRead.rawValue, 4)),
                (exec & ~known, const(AcceleratorError.badOpcode.rawValue, 4)),
                ((opIs(.load) | opIs(.store)) & transferBad, transferCode),
                (isGemm & gemmBad, gemmCode),
                (isConfig & configBad, configCode),
                (isOutput & outputBad, outputCode),
            ]
            let (anyFail, code) = failures.reversed().reduce((const(0, 1), const(0, 4))) { acc, f in
                (f.0 | acc.0, mux(f.0, f.1, acc.1))
            }
            // Nothing stops while a background transfer still moves data: the failure waits.
            fail.assign(anyFail & readDone & writeDone)
            failWith.assign(code)
            state.set(fail, State.idle.rawValue)
            // Start: from the first instruction.
            state.set(start & ~busy, State.fetch.rawValue)
            pc.set(start & ~busy, 0)
            // A new program (or one that failed to load) is fetched again.
            bufCount.set(fail | (start & ~busy), 0)

            // MARK: Counters (cleared by start).
            let cycles = u.reg("cycles_q", 64), compute = u.reg("compute_q", 32), stall = u.reg("stall_q", 32)
            let readBytes = u.reg("read_bytes_q", 32), writeBytes = u.reg("write_bytes_q", 32)
            cycles.set(busy, cycles.q &+ 1)
            compute.set(busy & arrayFire, compute.q &+ 1)
            let memoryWait = inState(.fetch) | inState(.fetchWait) | (inState(.exec) & (~readDone | ~writeDone))
            stall.set(busy & ~arrayFire & memoryWait, stall.q &+ 1)
            readBytes.set(rFire, readBytes.q &+ beatBytes)
            writeBytes.set(wFire, writeBytes.q &+ beatBytes)
            for r in [cycles, compute, stall, readBytes, writeBytes] { r.set(start & ~busy, 0) }

            m.output(k.busy, busy)
            m.output(k.finish, finish)
            m.output(k.fail, fail)
            m.output(k.failCode, failWith)
            m.output(k.pc, pc.q)
            m.output(k.cycles, cycles.q)
            m.output(k.compute, compute.q)
            m.output(k.stall, stall.q)
            m.output(k.readBytes, readBytes.q)
            m.output(k.writeBytes, writeBytes.q)
            u.close()
        }
    }

    /// An AXI address channel's burst issuer: `rows` rows of `rowBeats` beats, row r at
    /// `addr + r·stride`; each row is one INCR burst, split where it would cross 4 KiB. The
    /// address, length and valid are registers, held until the handshake. `load` is high in
    /// the cycle a burst is put on the channel, with `nextLen` (AxLEN) its length.
    struct Issuer { let valid, fire, idle, load, len, nextLen: Signal }

    static func issuer(_ m: ModuleBuilder, _ u: Updates, _ name: String, channel: Stream, go: Signal, addr: Signal, rows: Signal,
                       stride: Signal, rowBeats: Signal, allow: Signal, c: AcceleratorConfig) -> Issuer {
        let logBeat = c.beatBytes.trailingZeroBitCount
        // The window check has put every byte of the transfer below 2^addressBits, so the
        // cursors need no more bits than the bus.
        let aw = c.addressBits
        let cursor = u.reg("\(name)_cursor_q", aw), rowStart = u.reg("\(name)_row_start_q", aw)
        let rowsLeft = u.reg("\(name)_rows_q", 16), beatsLeft = u.reg("\(name)_beats_q", 9)
        let rowBeatsQ = u.reg("\(name)_row_beats_q", 9), strideQ = u.reg("\(name)_stride_q", 24)
        let valid = u.reg("\(name)_valid_q", 1), addrQ = u.reg("\(name)_addr_q", c.addressBits, reset: nil), lenQ = u.reg("\(name)_len_q", 8, reset: nil)
        let ready = channel.ready!
        let more = rowsLeft.q .!= 0
        let load = ((~valid.q | ready) & more & allow).named("\(name)_load")
        // Beats to the next 4 KiB boundary (the address is beat-aligned).
        let offset = cursor.q.bits(11, 0).zeroExtended(to: 13)
        let toBoundary = ((m.constant(4096, .unsigned(13)) &- offset) >> logBeat).named("\(name)_to_boundary")
        let beats = beatsLeft.q.zeroExtended(to: 13)
        let wholeRow = (beats .<= toBoundary).named("\(name)_whole_row")
        let len = mux(wholeRow, beats, toBoundary).truncated(to: 9).named("\(name)_burst_beats")
        let nextLen = (len &- 1).truncated(to: 8)
        valid.set(ready, 0)
        valid.set(load, 1)
        addrQ.set(load, cursor.q)
        lenQ.set(load, nextLen)
        let nextRow = (rowStart.q &+ strideQ.q.zeroExtended(to: aw)).named("\(name)_next_row")
        rowsLeft.set(load & wholeRow, rowsLeft.q &- 1)
        rowStart.set(load & wholeRow, nextRow)
        cursor.set(load, mux(wholeRow, nextRow, cursor.q &+ (len.zeroExtended(to: aw) << logBeat)))
        beatsLeft.set(load, mux(wholeRow, rowBeatsQ.q, beatsLeft.q &- len))
        cursor.set(go, fit(addr, aw)); rowStart.set(go, fit(addr, aw)); rowsLeft.set(go, rows)
        beatsLeft.set(go, rowBeats); rowBeatsQ.set(go, rowBeats); strideQ.set(go, stride)
        channel.valid.assign(valid.q)
        channel["addr"].assign(addrQ.q)
        channel["len"].assign(lenQ.q)
        channel["size"].assign(m.constant(Int128(logBeat), .unsigned(3)))
        channel["burst"].assign(m.constant(AXI.burstIncr, .unsigned(2)))
        channel["cache"].assign(m.constant(0b0011, .unsigned(4)))
        channel["prot"].assign(m.constant(0, .unsigned(3)))
        return Issuer(valid: valid.q, fire: (valid.q & ready).named("\(name)_fire"), idle: (~more & ~valid.q).named("\(name)_idle"), load: load, len: lenQ.q, nextLen: nextLen)
    }
}
