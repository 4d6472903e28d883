/**
 * Ring ids (daemon-protocol §2.3). A `RingId` = `(seq u64, rep u32)`, 12 bytes, names the ring a
 * DATA / TOKEN / control packet belongs to. An `OldRingId` adds the representative's incarnation
 * (16 bytes): it names a daemon's last installed ring inside JOIN, COMMIT member entries and
 * sections, and the token's ring table (§6.10.1 R1 fix item 4: a reused seq can never fold two
 * rings into one section). Decision: we also use the 16-byte form in the token's ring table, so
 * that every id that names an *old* ring in recovery is the full one.
 */
import type { Reader, Writer } from "./Wire.js"

export interface RingId {
  readonly seq: number
  readonly rep: number
}

export interface OldRingId extends RingId {
  readonly repIncarnation: number
}

export const RING_ID_LENGTH = 12
export const OLD_RING_ID_LENGTH = 16

export const readRingId = (r: Reader): RingId => {
  const seq = r.u64("ringId.seq")
  const rep = r.u32("ringId.rep")
  return { seq, rep }
}
export const writeRingId = (w: Writer, id: RingId): void => {
  w.u64(id.seq)
  w.u32(id.rep)
}
export const readOldRingId = (r: Reader): OldRingId => {
  const seq = r.u64("ringId.seq")
  const rep = r.u32("ringId.rep")
  const repIncarnation = r.u32("ringId.repIncarnation")
  return { seq, rep, repIncarnation }
}
export const writeOldRingId = (w: Writer, id: OldRingId): void => {
  w.u64(id.seq)
  w.u32(id.rep)
  w.u32(id.repIncarnation)
}

export const ringIdEquals = (a: RingId, b: RingId): boolean => a.seq === b.seq && a.rep === b.rep
export const oldRingIdEquals = (a: OldRingId, b: OldRingId): boolean =>
  a.seq === b.seq && a.rep === b.rep && a.repIncarnation === b.repIncarnation
/** §2.3: ordered by seq, then rep. */
export const compareRingId = (a: RingId, b: RingId): number => a.seq !== b.seq ? a.seq - b.seq : a.rep - b.rep
export const ringIdKey = (id: RingId): string => `${id.seq}:${id.rep}`
