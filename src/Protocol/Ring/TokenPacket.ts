/**
 * `TOKEN` (daemon-protocol §4.5): the regular token with its ring table and retransmission
 * request (rtr) entries. Entries that would make the token exceed `MaxTokenSize` are dropped by
 * the encoder (§4.5: their requesters ask again at their next visit).
 */
import { HEADER_LENGTH, type HeaderStamp, PacketType, finishDatagram, writeHeader } from "./Header.js"
import { OLD_RING_ID_LENGTH, type OldRingId, type RingId, readOldRingId, readRingId, writeOldRingId, writeRingId } from "./RingId.js"
import { malformed, type Reader } from "./Wire.js"

export const TOKEN_FIXED_LENGTH = 68
export const RTR_ENTRY_LENGTH = 20
/** `ringTableCount` is a u8. */
export const MAX_RING_TABLE = 255
/** `rtrCount` is a u16. */
export const MAX_RTR_ENTRIES = 0xffff

export const TokenPhase = { OPERATIONAL: 0, RECOVERY: 1 } as const
export type TokenPhase = 0 | 1

/** §4.5 retransmission request: a contiguous range `[firstSeq, firstSeq + count)`. */
export interface RtrEntry {
  /** 0 = this token's ring; k ≥ 1 = ring table entry k − 1. */
  ringIdx: number
  /** Consecutive visits the requester asked for this range (saturating at 255). */
  attempts: number
  /** §5.6: the first eligible answerer's distance after the requester. */
  hintDistance: number
  requesterId: number
  firstSeq: number
  count: number
}

/** Decoded tokens are mutable: the engine updates one in place during a visit (§5.3). */
export interface Token {
  ringId: RingId
  hop: number
  rotation: number
  seq: number
  aru: number
  aruId: number
  fcc: number
  backlog: number
  phase: TokenPhase
  idle: number
  recDone: number
  recDoneId: number
  ringTable: Array<OldRingId>
  rtr: Array<RtrEntry>
}

export const tokenSize = (ringTable: number, rtr: number): number =>
  HEADER_LENGTH + TOKEN_FIXED_LENGTH + OLD_RING_ID_LENGTH * ringTable + RTR_ENTRY_LENGTH * rtr

/** How many rtr entries a token with this ring table can carry within `maxTokenSize`. */
export const rtrEntriesThatFit = (ringTable: number, maxTokenSize: number): number =>
  Math.max(0, Math.min(MAX_RTR_ENTRIES, Math.floor((maxTokenSize - tokenSize(ringTable, 0)) / RTR_ENTRY_LENGTH)))

/**
 * Encodes a token, keeping as many rtr entries (in order) as fit `maxTokenSize`; see
 * {@link rtrEntriesThatFit} for how many that is.
 */
export const encodeToken = (stamp: HeaderStamp, t: Token, maxTokenSize = Infinity): Buffer => {
  if (t.ringTable.length > MAX_RING_TABLE) throw new RangeError("TOKEN: ring table too long")
  const rtrCount = Math.min(t.rtr.length, rtrEntriesThatFit(t.ringTable.length, maxTokenSize))
  const buf = Buffer.allocUnsafe(tokenSize(t.ringTable.length, rtrCount))
  const w = writeHeader(buf, PacketType.TOKEN, stamp)
  writeRingId(w, t.ringId)
  w.u64(t.hop)
  w.u64(t.rotation)
  w.u64(t.seq)
  w.u64(t.aru)
  w.u32(t.aruId)
  w.u32(t.fcc)
  w.u32(t.backlog)
  w.u8(t.phase)
  w.u8(Math.min(255, t.idle))
  w.u8(t.recDone)
  w.u8(t.ringTable.length)
  w.u32(t.recDoneId)
  w.u16(rtrCount)
  w.u16(0)
  for (const id of t.ringTable) writeOldRingId(w, id)
  for (let i = 0; i < rtrCount; i++) {
    const e = t.rtr[i]!
    w.u8(e.ringIdx)
    w.u8(Math.min(255, e.attempts))
    w.u16(e.hintDistance)
    w.u32(e.requesterId)
    w.u64(e.firstSeq)
    w.u32(e.count)
  }
  return finishDatagram(buf)
}

export const decodeTokenBody = (r: Reader): Token => {
  const ringId = readRingId(r)
  const hop = r.u64("hop")
  const rotation = r.u64("rotation")
  const seq = r.u64("seq")
  const aru = r.u64("aru")
  const aruId = r.u32()
  const fcc = r.u32()
  const backlog = r.u32()
  const phase = r.u8()
  if (phase > 1) malformed(`TOKEN phase ${phase}`)
  const idle = r.u8()
  const recDone = r.u8()
  if (recDone > 1) malformed("TOKEN recDone > 1")
  const ringTableCount = r.u8()
  const recDoneId = r.u32()
  const rtrCount = r.u16()
  r.skip(2)
  if (aru > seq) malformed("TOKEN aru > seq")
  const ringTable = new Array<OldRingId>(ringTableCount)
  for (let i = 0; i < ringTableCount; i++) ringTable[i] = readOldRingId(r)
  const rtr = new Array<RtrEntry>(rtrCount)
  for (let i = 0; i < rtrCount; i++) {
    const ringIdx = r.u8()
    const attempts = r.u8()
    const hintDistance = r.u16()
    const requesterId = r.u32()
    const firstSeq = r.u64("rtr.firstSeq")
    const count = r.u32()
    if (ringIdx > ringTableCount) malformed("rtr ringIdx beyond ring table")
    if (firstSeq < 1 || count < 1) malformed("rtr empty range")
    rtr[i] = { ringIdx, attempts, hintDistance, requesterId, firstSeq, count }
  }
  r.done("TOKEN")
  return {
    ringId, hop, rotation, seq, aru, aruId, fcc, backlog, phase: phase as TokenPhase, idle, recDone, recDoneId,
    ringTable, rtr
  }
}
