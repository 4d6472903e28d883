/**
 * `COMMIT` (daemon-protocol §4.8) with the R5 hole bitmap (§4.8.1) and the R1 representative
 * incarnation in old ring ids (§6.10.1 fix item 4). Layout:
 *
 * | Off | Size | Field |
 * |---|---|---|
 * | 0 | 12 | `newRing` (seq u64, rep u32; the rep's incarnation is `members[0].incarnation`) |
 * | 12 | 8 | `hop` |
 * | 20 | 1 | `phase`: 1 `COLLECT`, 2 `INSTALL` |
 * | 21 | 1 | reserved |
 * | 22 | 2 | `index` |
 * | 24 | 2 | `memberCount` |
 * | 26 | 2 | `sectionCount` |
 * | 28 | 24·n | members: `id` u32, `incarnation` u32, `oldRing` (16) |
 * | … | var | sections |
 *
 * Section (44-byte header): `oldRing` (16), `stableAru` u64, `highSeq` u64, `transCount` u16,
 * `commitCount` u16, `holeFormat` u8 (0 = ranges, 1 = bitmap; R5), 3 reserved, `holeCount` u32
 * (ranges: number of `(first u64, count u32)` ranges; bitmap: its byte length, which must be
 * ⌈(highSeq − stableAru)/8⌉), then `transCount` ids, `commitCount` ids, the holes. Bitmap bit i
 * (LSB first within a byte) set = seq `stableAru + 1 + i` is a hole; padding bits are 0.
 * The encoder picks the smaller form (ties → ranges); holes are kept in memory as sorted,
 * disjoint, non-adjacent ranges inside `(stableAru, highSeq]`, and the decoder insists on that.
 */
import { HEADER_LENGTH, type HeaderStamp, PacketType, finishDatagram, writeHeader } from "./Header.js"
import { type OldRingId, type RingId, readOldRingId, readRingId, writeOldRingId, writeRingId } from "./RingId.js"
import { malformed, type Reader, type Writer } from "./Wire.js"

export const COMMIT_FIXED_LENGTH = 28
export const COMMIT_MEMBER_LENGTH = 24
export const SECTION_HEADER_LENGTH = 44
export const HOLE_RANGE_LENGTH = 12
/** §4.8: a commit token MAY use IP fragmentation but MUST NOT exceed the largest UDP payload. */
export const MAX_COMMIT_SIZE = 65_507

export const CommitPhase = { COLLECT: 1, INSTALL: 2 } as const
export type CommitPhase = 1 | 2

export interface CommitMember {
  readonly id: number
  readonly incarnation: number
  readonly oldRing: OldRingId
}

export interface SeqRange {
  readonly first: number
  readonly count: number
}

export interface Section {
  oldRing: OldRingId
  stableAru: number
  highSeq: number
  /** Transitional list, in ring order (§6.6 COLLECT step 3). */
  trans: Array<number>
  commit: Array<number>
  /** Canonical ranges in `(stableAru, highSeq]`. */
  holes: Array<SeqRange>
}

export interface Commit {
  newRing: RingId
  hop: number
  phase: CommitPhase
  index: number
  members: Array<CommitMember>
  sections: Array<Section>
}

const bitmapLength = (s: Section): number => Math.ceil((s.highSeq - s.stableAru) / 8)
const useBitmap = (s: Section): boolean => s.holes.length > 0 && bitmapLength(s) < HOLE_RANGE_LENGTH * s.holes.length
const holeBytes = (s: Section): number => useBitmap(s) ? bitmapLength(s) : HOLE_RANGE_LENGTH * s.holes.length

export const sectionSize = (s: Section): number =>
  SECTION_HEADER_LENGTH + 4 * (s.trans.length + s.commit.length) + holeBytes(s)

export const commitSize = (c: Commit): number => {
  let n = HEADER_LENGTH + COMMIT_FIXED_LENGTH + COMMIT_MEMBER_LENGTH * c.members.length
  for (const s of c.sections) n += sectionSize(s)
  return n
}

const writeSection = (w: Writer, s: Section): void => {
  const bitmap = useBitmap(s)
  writeOldRingId(w, s.oldRing)
  w.u64(s.stableAru)
  w.u64(s.highSeq)
  w.u16(s.trans.length)
  w.u16(s.commit.length)
  w.u8(bitmap ? 1 : 0)
  w.zeros(3)
  w.u32(bitmap ? bitmapLength(s) : s.holes.length)
  for (const id of s.trans) w.u32(id)
  for (const id of s.commit) w.u32(id)
  if (bitmap) {
    const start = w.pos
    w.zeros(bitmapLength(s))
    for (const h of s.holes) {
      for (let q = h.first; q < h.first + h.count; q++) {
        const i = q - s.stableAru - 1
        w.buf[start + (i >>> 3)]! |= 1 << (i & 7)
      }
    }
  } else {
    for (const h of s.holes) (w.u64(h.first), w.u32(h.count))
  }
}

/** Throws RangeError if the token would exceed {@link MAX_COMMIT_SIZE} (R5: the configuration check prevents it). */
export const encodeCommit = (stamp: HeaderStamp, c: Commit): Buffer => {
  if (c.members.length > 0xffff || c.sections.length > 0xffff) throw new RangeError("COMMIT: too many entries")
  const size = commitSize(c)
  if (size > MAX_COMMIT_SIZE) throw new RangeError(`COMMIT: ${size} bytes exceeds ${MAX_COMMIT_SIZE}`)
  const buf = Buffer.allocUnsafe(size)
  const w = writeHeader(buf, PacketType.COMMIT, stamp)
  writeRingId(w, c.newRing)
  w.u64(c.hop)
  w.u8(c.phase)
  w.u8(0)
  w.u16(c.index)
  w.u16(c.members.length)
  w.u16(c.sections.length)
  for (const m of c.members) {
    w.u32(m.id)
    w.u32(m.incarnation)
    writeOldRingId(w, m.oldRing)
  }
  for (const s of c.sections) writeSection(w, s)
  return finishDatagram(buf)
}

const readIds = (r: Reader, n: number, what: string): Array<number> => {
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) out[i] = r.u32(what)
  return out
}

const readSection = (r: Reader): Section => {
  const oldRing = readOldRingId(r)
  const stableAru = r.u64("section.stableAru")
  const highSeq = r.u64("section.highSeq")
  if (highSeq < stableAru) malformed("section highSeq < stableAru")
  const transCount = r.u16()
  const commitCount = r.u16()
  const format = r.u8()
  if (format > 1) malformed(`section hole format ${format}`)
  r.skip(3)
  const holeCount = r.u32()
  const trans = readIds(r, transCount, "trans")
  const commit = readIds(r, commitCount, "commit")
  const holes: Array<SeqRange> = []
  if (format === 1) {
    const expected = Math.ceil((highSeq - stableAru) / 8)
    if (holeCount !== expected) malformed("hole bitmap length")
    const bits = r.bytes(holeCount, "hole bitmap")
    const span = highSeq - stableAru
    let runStart = -1
    for (let i = 0; i <= span; i++) {
      const set = i < span && (bits[i >>> 3]! & (1 << (i & 7))) !== 0
      if (set && runStart < 0) runStart = i
      if (!set && runStart >= 0) {
        holes.push({ first: stableAru + 1 + runStart, count: i - runStart })
        runStart = -1
      }
    }
    for (let i = span; i < holeCount * 8; i++) if (bits[i >>> 3]! & (1 << (i & 7))) malformed("hole bitmap padding")
    if (holes.length === 0) malformed("empty hole bitmap")
  } else {
    let floor = stableAru + 1
    for (let i = 0; i < holeCount; i++) {
      const first = r.u64("hole.first")
      const count = r.u32("hole.count")
      // Canonical: sorted, disjoint, not adjacent, inside (stableAru, highSeq].
      if (count < 1 || first < floor || first + count - 1 > highSeq) malformed("hole range out of order or bounds")
      holes.push({ first, count })
      floor = first + count + 1
    }
  }
  return { oldRing, stableAru, highSeq, trans, commit, holes }
}

export const decodeCommitBody = (r: Reader): Commit => {
  const newRing = readRingId(r)
  const hop = r.u64("hop")
  const phase = r.u8()
  if (phase !== 1 && phase !== 2) malformed(`COMMIT phase ${phase}`)
  r.skip(1)
  const index = r.u16()
  const memberCount = r.u16()
  const sectionCount = r.u16()
  if (memberCount < 1) malformed("COMMIT without members")
  if (index > memberCount) malformed("COMMIT index beyond members")
  const members = new Array<CommitMember>(memberCount)
  for (let i = 0; i < memberCount; i++) {
    const id = r.u32("member")
    const incarnation = r.u32("member")
    members[i] = { id, incarnation, oldRing: readOldRingId(r) }
  }
  const sections = new Array<Section>(sectionCount)
  for (let i = 0; i < sectionCount; i++) sections[i] = readSection(r)
  r.done("COMMIT")
  return { newRing, hop, phase: phase as CommitPhase, index, members, sections }
}

/** Canonical ranges of a sorted list of distinct seqs. */
export const rangesOf = (seqs: ReadonlyArray<number>): Array<SeqRange> => {
  const out: Array<SeqRange> = []
  for (const s of seqs) {
    const last = out[out.length - 1]
    if (last !== undefined && last.first + last.count === s) out[out.length - 1] = { first: last.first, count: last.count + 1 }
    else out.push({ first: s, count: 1 })
  }
  return out
}
