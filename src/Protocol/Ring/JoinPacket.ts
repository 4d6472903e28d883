/**
 * `JOIN` (daemon-protocol §4.7), as amended by the review fixes:
 *
 * | Off | Size | Field |
 * |---|---|---|
 * | 0 | 8 | `maxRingSeqSeen` |
 * | 8 | 16 | `oldRing` = seq u64, rep u32, repIncarnation u32 (R1 fix item 4, §6.10.1) |
 * | 24 | 2 | `procCount` |
 * | 26 | 2 | `failCount` |
 * | 28 | 2 | `reachCount` |
 * | 30 | 2 | `quarantineCount` (R4 fix item 1, §11.2.1) |
 * | 32 | 1 | `reachValid` (0/1, §6.5) |
 * | 33 | 3 | reserved |
 * | 36 | 8·p | proc set `(id u32, incarnation u32)` |
 * | … | 8·f | fail set, same form |
 * | … | 4·r | reach set: daemon ids |
 * | … | 12·q | quarantine list: `(id u32, incarnation u32, remainingMs u32)` |
 *
 * Decision: R1 and R4 give the fields but not their place; we widened the fixed part to 36
 * bytes instead of squeezing the counts into §4.7's single reserved byte.
 */
import { HEADER_LENGTH, type HeaderStamp, PacketType, finishDatagram, writeHeader } from "./Header.js"
import { type OldRingId, readOldRingId, writeOldRingId } from "./RingId.js"
import { malformed, type Reader } from "./Wire.js"

export const JOIN_FIXED_LENGTH = 36

/** A daemon process in a membership set (§2.2). */
export interface ProcId {
  readonly id: number
  readonly incarnation: number
}

export interface QuarantineEntry {
  readonly id: number
  readonly incarnation: number
  readonly remainingMs: number
}

export interface Join {
  readonly maxRingSeqSeen: number
  readonly oldRing: OldRingId
  readonly procSet: ReadonlyArray<ProcId>
  readonly failSet: ReadonlyArray<ProcId>
  readonly reachValid: boolean
  readonly reach: ReadonlyArray<number>
  readonly quarantine: ReadonlyArray<QuarantineEntry>
}

const MAX_COUNT = 0xffff

export const encodeJoin = (stamp: HeaderStamp, j: Join): Buffer => {
  for (const n of [j.procSet.length, j.failSet.length, j.reach.length, j.quarantine.length]) {
    if (n > MAX_COUNT) throw new RangeError("JOIN: set too large")
  }
  const size = HEADER_LENGTH + JOIN_FIXED_LENGTH + 8 * (j.procSet.length + j.failSet.length) + 4 * j.reach.length +
    12 * j.quarantine.length
  const buf = Buffer.allocUnsafe(size)
  const w = writeHeader(buf, PacketType.JOIN, stamp)
  w.u64(j.maxRingSeqSeen)
  writeOldRingId(w, j.oldRing)
  w.u16(j.procSet.length)
  w.u16(j.failSet.length)
  w.u16(j.reach.length)
  w.u16(j.quarantine.length)
  w.u8(j.reachValid ? 1 : 0)
  w.zeros(3)
  for (const p of j.procSet) (w.u32(p.id), w.u32(p.incarnation))
  for (const p of j.failSet) (w.u32(p.id), w.u32(p.incarnation))
  for (const id of j.reach) w.u32(id)
  for (const q of j.quarantine) (w.u32(q.id), w.u32(q.incarnation), w.u32(q.remainingMs))
  return finishDatagram(buf)
}

const readProcs = (r: Reader, n: number, what: string): Array<ProcId> => {
  const out = new Array<ProcId>(n)
  for (let i = 0; i < n; i++) out[i] = { id: r.u32(what), incarnation: r.u32(what) }
  return out
}

export const decodeJoinBody = (r: Reader): Join => {
  const maxRingSeqSeen = r.u64("maxRingSeqSeen")
  const oldRing = readOldRingId(r)
  const procCount = r.u16()
  const failCount = r.u16()
  const reachCount = r.u16()
  const quarantineCount = r.u16()
  const reachValid = r.u8()
  if (reachValid > 1) malformed("JOIN reachValid > 1")
  r.skip(3)
  const procSet = readProcs(r, procCount, "proc set")
  const failSet = readProcs(r, failCount, "fail set")
  const reach = new Array<number>(reachCount)
  for (let i = 0; i < reachCount; i++) reach[i] = r.u32("reach set")
  const quarantine = new Array<QuarantineEntry>(quarantineCount)
  for (let i = 0; i < quarantineCount; i++) {
    quarantine[i] = { id: r.u32("quarantine"), incarnation: r.u32("quarantine"), remainingMs: r.u32("quarantine") }
  }
  r.done("JOIN")
  return { maxRingSeqSeen, oldRing, procSet, failSet, reachValid: reachValid === 1, reach, quarantine }
}
