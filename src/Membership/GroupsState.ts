/**
 * The `GROUPS_STATE` payload (daemon-protocol §8.7): the group state one synced set sends in the
 * state exchange after a configuration change. A pure codec; decoding untrusted bytes never
 * throws, it returns {@link GroupsStateDecodeError}.
 *
 * Layout, little-endian:
 * ```
 * configId: kind u8, seq u64, rep u32
 * synced set: count u16, ids u32 × count
 * group count u32, then per group:
 *   name (u8 length + bytes), gid (procId u32, time u32, index u32), changed u8, daemon count u16,
 *   per daemon: id u32, membId (kind u8, seq u64, rep u32), member count u16,
 *               member names (u8 length + bytes) × count
 * ```
 */
import * as Data from "effect/Data"
import type { GroupId } from "../Protocol/index.js"
import type { ConfigurationId } from "./ConfigurationId.js"

/** A daemon part's membership id: a configuration id, or UNKNOWN for a partitioned daemon (§8.3). */
export const UNKNOWN = "UNKNOWN"
export type MembId = ConfigurationId | typeof UNKNOWN

/**
 * Wire `kind` byte of a configuration id. Decision (§8.7 does not number the kinds): 1 = REG,
 * 2 = TRANS, and 0 = UNKNOWN, allowed only for a daemon's `membId` and only with seq 0 and rep 0.
 */
const KIND_UNKNOWN = 0
const KIND_REG = 1
const KIND_TRANS = 2

/** `MaxGroupsStateSize` (§8.6 notes, default 16 MiB): a larger payload is refused by the decoder. */
export const MAX_GROUPS_STATE_SIZE = 16 * 1024 * 1024

export interface DaemonPartState {
  readonly daemonId: number
  readonly membId: MembId
  /** Private groups, byte-wise sorted. */
  readonly members: ReadonlyArray<string>
}

export interface GroupState {
  readonly name: string
  readonly gid: GroupId
  readonly changed: boolean
  /** In rank order (unconfigured daemons after, by id). */
  readonly daemons: ReadonlyArray<DaemonPartState>
}

export interface GroupsState {
  /** The regular configuration the exchange belongs to (the sender's R′). */
  readonly configId: ConfigurationId
  /** The sender's synced set, in rank order. */
  readonly syncedSet: ReadonlyArray<number>
  readonly groups: ReadonlyArray<GroupState>
}

export class GroupsStateDecodeError extends Data.TaggedError("GroupsStateDecodeError")<{
  readonly reason: string
  /** Byte offset at which decoding stopped. */
  readonly offset: number
}> {}

export type GroupsStateDecodeResult =
  | { readonly ok: true; readonly state: GroupsState }
  | { readonly ok: false; readonly error: GroupsStateDecodeError }

// ---------------------------------------------------------------------------------------------
// Encoder

const MEMB_ID_LENGTH = 13
/** u8 length prefix of names (§8.7). */
const MAX_NAME_BYTES = 255
const MAX_U16 = 0xffff

const assertFits = (ok: boolean, what: string): void => {
  // Names come from validated client headers (≤ 31 bytes) and counts from bounded tables, so a
  // violation is a bug of ours, not input from the network (STYLE: assertions for invariants).
  if (!ok) throw new Error(`GROUPS_STATE encoder: ${what}`)
}

const nameLength = (name: string): number => Buffer.byteLength(name, "latin1")

/** Encodes a state payload. Names are latin1 strings, as everywhere on our wire (Protocol/Bytes). */
export const encodeGroupsState = (state: GroupsState): Buffer => {
  assertFits(state.syncedSet.length <= MAX_U16, "synced set larger than 65535")
  let size = MEMB_ID_LENGTH + 2 + 4 * state.syncedSet.length + 4
  for (const g of state.groups) {
    const n = nameLength(g.name)
    assertFits(n <= MAX_NAME_BYTES, `group name of ${n} bytes`)
    assertFits(g.daemons.length <= MAX_U16, "more than 65535 daemons in a group")
    size += 1 + n + 12 + 1 + 2
    for (const d of g.daemons) {
      assertFits(d.members.length <= MAX_U16, "more than 65535 members at one daemon")
      size += 4 + MEMB_ID_LENGTH + 2
      for (const m of d.members) {
        const k = nameLength(m)
        assertFits(k <= MAX_NAME_BYTES, `member name of ${k} bytes`)
        size += 1 + k
      }
    }
  }
  const buf = Buffer.alloc(size)
  let pos = 0
  const membId = (id: MembId): void => {
    if (id === UNKNOWN) {
      buf.writeUInt8(KIND_UNKNOWN, pos)
      buf.writeBigUInt64LE(0n, pos + 1)
      buf.writeUInt32LE(0, pos + 9)
    } else {
      buf.writeUInt8(id.kind === "REG" ? KIND_REG : KIND_TRANS, pos)
      buf.writeBigUInt64LE(BigInt(id.seq), pos + 1)
      buf.writeUInt32LE(id.rep >>> 0, pos + 9)
    }
    pos += MEMB_ID_LENGTH
  }
  const name = (s: string): void => {
    const n = buf.write(s, pos + 1, "latin1")
    buf.writeUInt8(n, pos)
    pos += 1 + n
  }
  membId(state.configId)
  buf.writeUInt16LE(state.syncedSet.length, pos)
  pos += 2
  for (const id of state.syncedSet) {
    buf.writeUInt32LE(id >>> 0, pos)
    pos += 4
  }
  buf.writeUInt32LE(state.groups.length, pos)
  pos += 4
  for (const g of state.groups) {
    name(g.name)
    buf.writeUInt32LE(g.gid.procId >>> 0, pos)
    buf.writeUInt32LE(g.gid.time >>> 0, pos + 4)
    buf.writeUInt32LE(g.gid.index >>> 0, pos + 8)
    buf.writeUInt8(g.changed ? 1 : 0, pos + 12)
    buf.writeUInt16LE(g.daemons.length, pos + 13)
    pos += 15
    for (const d of g.daemons) {
      buf.writeUInt32LE(d.daemonId >>> 0, pos)
      pos += 4
      membId(d.membId)
      buf.writeUInt16LE(d.members.length, pos)
      pos += 2
      for (const m of d.members) name(m)
    }
  }
  return buf
}

// ---------------------------------------------------------------------------------------------
// Decoder

/** Thrown inside the decoder only, turned into {@link GroupsStateDecodeError} at its boundary. */
class Malformed {
  constructor(readonly reason: string, readonly offset: number) {}
}

class Reader {
  pos = 0
  constructor(private readonly buf: Buffer) {}

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new Malformed(`truncated ${what}`, this.pos)
  }

  u8(what: string): number {
    this.need(1, what)
    return this.buf.readUInt8(this.pos++)
  }

  u16(what: string): number {
    this.need(2, what)
    const v = this.buf.readUInt16LE(this.pos)
    this.pos += 2
    return v
  }

  u32(what: string): number {
    this.need(4, what)
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  u64(what: string): number {
    this.need(8, what)
    const v = this.buf.readBigUInt64LE(this.pos)
    // daemon-protocol §0: u64 counters stay below 2^53.
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Malformed(`${what} ≥ 2^53`, this.pos)
    this.pos += 8
    return Number(v)
  }

  name(what: string): string {
    const n = this.u8(`${what} length`)
    this.need(n, what)
    const s = this.buf.toString("latin1", this.pos, this.pos + n)
    this.pos += n
    return s
  }

  get remaining(): number {
    return this.buf.length - this.pos
  }
}

const readMembId = (r: Reader, what: string, allowUnknown: boolean): MembId => {
  const at = r.pos
  const kind = r.u8(`${what} kind`)
  const seq = r.u64(`${what} seq`)
  const rep = r.u32(`${what} rep`)
  if (kind === KIND_REG || kind === KIND_TRANS) {
    // §2.3: regular ids have even seqs, transitional ids odd ones.
    if ((seq % 2 === 0) !== (kind === KIND_REG)) throw new Malformed(`${what}: seq parity does not match its kind`, at)
    return { kind: kind === KIND_REG ? "REG" : "TRANS", seq, rep }
  }
  if (kind === KIND_UNKNOWN && allowUnknown && seq === 0 && rep === 0) return UNKNOWN
  throw new Malformed(`${what}: bad kind ${kind}`, at)
}

const decodeOrThrow = (buf: Buffer): GroupsState => {
  if (buf.length > MAX_GROUPS_STATE_SIZE) throw new Malformed(`payload of ${buf.length} bytes`, 0)
  const r = new Reader(buf)
  const configId = readMembId(r, "configId", false)
  if (configId === UNKNOWN) throw new Malformed("configId is UNKNOWN", 0)
  const syncedCount = r.u16("synced set count")
  if (syncedCount * 4 > r.remaining) throw new Malformed(`synced set of ${syncedCount} ids`, r.pos)
  const syncedSet: Array<number> = []
  for (let i = 0; i < syncedCount; i++) syncedSet.push(r.u32("synced set id"))
  const groupCount = r.u32("group count")
  // Each group takes at least 16 bytes, which bounds the loop by the input (STYLE: loop bounds).
  if (groupCount * 16 > r.remaining) throw new Malformed(`group count ${groupCount}`, r.pos)
  const groups: Array<GroupState> = []
  for (let i = 0; i < groupCount; i++) {
    const name = r.name("group name")
    const procId = r.u32("gid procId") | 0
    const time = r.u32("gid time") | 0
    const index = r.u32("gid index") | 0
    const changedAt = r.pos
    const changedByte = r.u8("changed")
    if (changedByte > 1) throw new Malformed(`changed flag ${changedByte}`, changedAt)
    const daemonCount = r.u16("daemon count")
    if (daemonCount * 19 > r.remaining) throw new Malformed(`daemon count ${daemonCount}`, r.pos)
    const daemons: Array<DaemonPartState> = []
    for (let j = 0; j < daemonCount; j++) {
      const daemonId = r.u32("daemon id")
      const membId = readMembId(r, "membId", true)
      const memberCount = r.u16("member count")
      if (memberCount > r.remaining) throw new Malformed(`member count ${memberCount}`, r.pos)
      const members: Array<string> = []
      for (let k = 0; k < memberCount; k++) members.push(r.name("member name"))
      daemons.push({ daemonId, membId, members })
    }
    groups.push({ name, gid: { procId, time, index }, changed: changedByte === 1, daemons })
  }
  if (r.remaining !== 0) throw new Malformed(`${r.remaining} trailing bytes`, r.pos)
  return { configId, syncedSet, groups }
}

/** Decodes a delivered payload. Never throws. */
export const decodeGroupsState = (buf: Buffer): GroupsStateDecodeResult => {
  try {
    return { ok: true, state: decodeOrThrow(buf) }
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, error: new GroupsStateDecodeError({ reason: e.reason, offset: e.offset }) }
    return { ok: false, error: new GroupsStateDecodeError({ reason: `unexpected: ${String(e)}`, offset: -1 }) }
  }
}
