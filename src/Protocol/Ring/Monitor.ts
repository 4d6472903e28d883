/**
 * The monitor packets (daemon-protocol §10): `spmonitor` ↔ daemon, single UDP datagrams to the
 * daemon's DATA port, each with the common header of §4.1 (`senderId` = 0, `senderIncarnation` =
 * 0, `HAS_CRC` set by our encoder). The driver routes the types 0x20–0x25 here
 * ({@link isMonitorDatagram}) before the ring decoder sees them.
 *
 * §10 lists the fields; the layouts below are ours. Little-endian, fixed order, no padding
 * other than the reserved bytes shown. A signed `i16` on the wire is read as a `u16`: `0xFFFF`
 * (−1) means "unchanged" where the table says so; every other negative value is malformed.
 *
 * **Request prefix** (every request: 0x20, 0x22–0x25). Decision: §10 gives the reply port and
 * nonce to the status request only; we give them to every request so that a daemon answers a
 * dangerous command too — with a `MON_STATUS_REPLY` whose `outcome` says accepted or refused.
 * Spread answers a refused command with silence; a monitor then cannot tell a refusal from a
 * lost datagram.
 *
 * | Off | Size | Field |
 * |---|---|---|
 * | 0 | 2 | `replyPort` (≠ 0): the reply goes to the request's source IP, this port |
 * | 2 | 4 | `nonce`: echoed in the reply |
 *
 * `MON_STATUS_REQUEST` (0x20), `MON_RELOAD` (0x24): the prefix only.
 *
 * `MON_PARTITION` (0x22):
 *
 * | Off | Size | Field |
 * |---|---|---|
 * | 6 | 2 | `count`: number of configured daemons |
 * | 8 | 2·count | component `i16` ≥ 0 per configured daemon in rank order; all 0 = clear |
 *
 * `MON_FLOW_CONTROL` (0x23):
 *
 * | Off | Size | Field |
 * |---|---|---|
 * | 6 | 2 | `Window` i16, −1 = unchanged |
 * | 8 | 2 | `count`: number of per-daemon entries (configured daemons, rank order) |
 * | 10 | 4·count | per daemon: `PersonalWindow` i16, `AcceleratedWindow` i16, −1 = unchanged |
 *
 * `MON_KILL` (0x25):
 *
 * | Off | Size | Field |
 * |---|---|---|
 * | 6 | 2 | `count` |
 * | 8 | 4·count | target daemon ids |
 *
 * `MON_STATUS_REPLY` (0x21), the answer to every request:
 *
 * | Off | Size | Field |
 * |---|---|---|
 * | 0 | 4 | `nonce` of the request |
 * | 4 | 1 | `answered`: type code of the request answered (0x20, 0x22–0x25) |
 * | 5 | 1 | `outcome`: 0 STATUS, 1 ACCEPTED, 2 REFUSED_DANGEROUS (`DangerousMonitor` off), 3 REFUSED_INVALID |
 * | 6 | 1 | engine `state`: 0 BOOT, 1 OPERATIONAL, 2 GATHER, 3 COMMIT, 4 RECOVERY, 5 EXITED |
 * | 7 | 1 | `gstate` (§8.6): 0 GOP, 1 GTRANS, 2 GGATHER, 3 GGT |
 * | 8 | 8 | `uptimeMs` |
 * | 16 | 4 | `myId` |
 * | 20 | 4 | `leaderId` (0 = none: ids 0 and 0xFFFFFFFF are never daemon ids, §2.1) |
 * | 24 | 12 | `ringId` = seq u64, rep u32 (§2.3) |
 * | 36 | 2 | `Window` |
 * | 38 | 2 | `PersonalWindow` |
 * | 40 | 2 | `AcceleratedWindow` |
 * | 42 | 1 | `acceleratedRing` (0/1) |
 * | 43 | 1 | reserved |
 * | 44 | 4 | `sessions` |
 * | 48 | 4 | `groups` |
 * | 52 | 8·13 | counters, u64 each, in {@link COUNTER_FIELDS} order |
 * | 156 | 2 | `memberCount` |
 * | 158 | 1 | `nameLength` |
 * | 159 | 1 | `versionLength` |
 * | 160 | 1 | `detailLength` |
 * | 161 | 3 | reserved |
 * | 164 | 4·memberCount | ring member ids, rank order |
 * | … | nameLength | daemon name, UTF-8 |
 * | … | versionLength | version string, UTF-8 |
 * | … | detailLength | why a command was refused (empty otherwise), UTF-8 |
 *
 * **MonitorKey** (§10 [N]): when configured, a 32-byte HMAC-SHA-256 over the whole packet
 * (header with its CRC, and body) follows the body, on requests and replies. It is checked and
 * stripped by {@link verifyMonitorPacket} before {@link decodeMonitorPacket}.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import { ProtocolError } from "../ProtocolError.js"
import {
  bodyReader, type CommonHeaderOf, finishDatagram, HEADER_LENGTH, type HeaderReject, type HeaderStamp,
  MonitorPacketType, OFF_TYPE, readHeaderOf, writeHeader
} from "./Header.js"
import { type RingId, readRingId, writeRingId } from "./RingId.js"
import { malformed, type Reader, type Writer } from "./Wire.js"

export { MonitorPacketType }

/** True for the type codes 0x20–0x25 (§4.2). */
export const isMonitorPacketType = (t: number): t is MonitorPacketType =>
  t >= MonitorPacketType.MON_STATUS_REQUEST && t <= MonitorPacketType.MON_KILL

/** True when a datagram's type byte is a monitor type: the driver's routing test. */
export const isMonitorDatagram = (bytes: Uint8Array): boolean =>
  bytes.length > OFF_TYPE && isMonitorPacketType(bytes[OFF_TYPE]!)

// ---------------------------------------------------------------------------------------------
// Values

/** Engine states as the monitor shows them (§6.3, plus BOOT before the first ring and EXITED). */
export const ENGINE_STATES = ["BOOT", "OPERATIONAL", "GATHER", "COMMIT", "RECOVERY", "EXITED"] as const
export type EngineState = (typeof ENGINE_STATES)[number]

/** Group-layer states (§8.6). */
export const GROUP_STATES = ["GOP", "GTRANS", "GGATHER", "GGT"] as const
export type GroupLayerState = (typeof GROUP_STATES)[number]

/** What a `MON_STATUS_REPLY` answers with. */
export const REPLY_OUTCOMES = ["STATUS", "ACCEPTED", "REFUSED_DANGEROUS", "REFUSED_INVALID"] as const
export type ReplyOutcome = (typeof REPLY_OUTCOMES)[number]

/** The u64 counters of a status reply, in wire order. */
export const COUNTER_FIELDS = [
  "packetsSent",
  "packetsReceived",
  "packetsDelivered",
  "retransmissionsUnicast",
  "retransmissionsMulticast",
  "aru",
  "myAru",
  "highSeq",
  "tokenHurries",
  "tokenRetransmissions",
  "rotations",
  "messagesDelivered",
  "membershipChanges"
] as const
export type MonitorCounters = { readonly [K in (typeof COUNTER_FIELDS)[number]]: number }

export interface MonitorWindows {
  readonly window: number
  readonly personalWindow: number
  readonly acceleratedWindow: number
}

/** Everything a daemon reports about itself (the daemon fills it; the handler adds nonce and outcome). */
export interface StatusReplyFields {
  readonly uptimeMs: number
  readonly state: EngineState
  readonly gstate: GroupLayerState
  readonly myId: number
  /** 0 when there is no leader (not OPERATIONAL). */
  readonly leaderId: number
  readonly ringId: RingId
  readonly windows: MonitorWindows
  readonly acceleratedRing: boolean
  readonly sessions: number
  readonly groups: number
  readonly counters: MonitorCounters
  /** Ring members in rank order. */
  readonly members: ReadonlyArray<number>
  readonly daemonName: string
  readonly version: string
}

/** Every request starts with where to answer and what to echo. */
interface RequestPrefix {
  /** UDP port of the monitor's socket; the reply goes to the request's source IP. */
  readonly replyPort: number
  readonly nonce: number
}

export interface MonStatusRequest extends RequestPrefix {
  readonly _tag: "MON_STATUS_REQUEST"
}
export interface MonPartition extends RequestPrefix {
  readonly _tag: "MON_PARTITION"
  /** A component number ≥ 0 per configured daemon in rank order; all zeros clears. */
  readonly components: ReadonlyArray<number>
}
/** Per-daemon flow control entry; `null` = unchanged. */
export interface DaemonWindows {
  readonly personalWindow: number | null
  readonly acceleratedWindow: number | null
}
export interface MonFlowControl extends RequestPrefix {
  readonly _tag: "MON_FLOW_CONTROL"
  /** `null` = unchanged. */
  readonly window: number | null
  /** One entry per configured daemon in rank order. */
  readonly perDaemon: ReadonlyArray<DaemonWindows>
}
export interface MonReload extends RequestPrefix {
  readonly _tag: "MON_RELOAD"
}
export interface MonKill extends RequestPrefix {
  readonly _tag: "MON_KILL"
  readonly targets: ReadonlyArray<number>
}
export interface MonStatusReply {
  readonly _tag: "MON_STATUS_REPLY"
  readonly nonce: number
  /** The type of the request this answers. */
  readonly answered: MonitorRequest["_tag"]
  readonly outcome: ReplyOutcome
  /** Why a command was refused; empty otherwise. */
  readonly detail: string
  readonly status: StatusReplyFields
}

export type MonitorRequest = MonStatusRequest | MonPartition | MonFlowControl | MonReload | MonKill
export type MonitorPacket = MonitorRequest | MonStatusReply

// ---------------------------------------------------------------------------------------------
// Limits

/** The largest value an `i16` window or component may have. */
export const MAX_I16 = 0x7fff
/** `i16` −1 read as `u16`: "unchanged" in `MON_FLOW_CONTROL`. */
const UNCHANGED = 0xffff
/** Length-prefixed strings have a u8 length. */
const MAX_STRING_BYTES = 0xff
const MAX_COUNT = 0xffff
const PREFIX_LENGTH = 6
const REPLY_FIXED_LENGTH = 164
/** HMAC-SHA-256 trailer (§10 `MonitorKey`). */
export const MONITOR_MAC_LENGTH = 32

const TAG_TYPE: { readonly [K in MonitorPacket["_tag"]]: MonitorPacketType } = MonitorPacketType
const TYPE_TAG = new Map<number, MonitorPacket["_tag"]>(
  Object.entries(MonitorPacketType).map(([tag, type]) => [type, tag as MonitorPacket["_tag"]])
)

/** The header stamp of every monitor packet: §10, `senderId` = 0. */
export const monitorStamp = (configHash: number): HeaderStamp => ({ configHash, senderId: 0, senderIncarnation: 0, crc: true })

// ---------------------------------------------------------------------------------------------
// Encoding

const utf8 = (s: string, what: string): Buffer => {
  const b = Buffer.from(s, "utf8")
  if (b.length > MAX_STRING_BYTES) throw new RangeError(`monitor ${what}: more than ${MAX_STRING_BYTES} bytes`)
  return b
}

const checkCount = (n: number, what: string): void => {
  if (n > MAX_COUNT) throw new RangeError(`monitor ${what}: more than ${MAX_COUNT} entries`)
}

/** `null` → −1; a value must fit in `0..MAX_I16`. */
const writeOptionalI16 = (w: Writer, v: number | null, what: string): void => {
  if (v === null) return w.u16(UNCHANGED)
  if (!(Number.isInteger(v) && v >= 0 && v <= MAX_I16)) throw new RangeError(`monitor ${what} out of range: ${v}`)
  w.u16(v)
}

interface ReplyStrings {
  readonly name: Buffer
  readonly version: Buffer
  readonly detail: Buffer
}

const replyStrings = (p: MonStatusReply): ReplyStrings => ({
  name: utf8(p.status.daemonName, "daemon name"),
  version: utf8(p.status.version, "version"),
  detail: utf8(p.detail, "detail")
})

const bodyLength = (p: MonitorPacket, strings: ReplyStrings | undefined): number => {
  switch (p._tag) {
    case "MON_STATUS_REQUEST":
    case "MON_RELOAD":
      return PREFIX_LENGTH
    case "MON_PARTITION":
      return PREFIX_LENGTH + 2 + 2 * p.components.length
    case "MON_FLOW_CONTROL":
      return PREFIX_LENGTH + 4 + 4 * p.perDaemon.length
    case "MON_KILL":
      return PREFIX_LENGTH + 2 + 4 * p.targets.length
    case "MON_STATUS_REPLY":
      return REPLY_FIXED_LENGTH + 4 * p.status.members.length + strings!.name.length + strings!.version.length +
        strings!.detail.length
  }
}

const writePrefix = (w: Writer, p: RequestPrefix): void => {
  if (!(Number.isInteger(p.replyPort) && p.replyPort > 0 && p.replyPort <= 0xffff)) {
    throw new RangeError(`monitor reply port out of range: ${p.replyPort}`)
  }
  w.u16(p.replyPort)
  w.u32(p.nonce)
}

const writeReply = (w: Writer, p: MonStatusReply, strings: ReplyStrings): void => {
  const s = p.status
  checkCount(s.members.length, "members")
  w.u32(p.nonce)
  w.u8(TAG_TYPE[p.answered])
  w.u8(REPLY_OUTCOMES.indexOf(p.outcome))
  w.u8(ENGINE_STATES.indexOf(s.state))
  w.u8(GROUP_STATES.indexOf(s.gstate))
  w.u64(s.uptimeMs)
  w.u32(s.myId)
  w.u32(s.leaderId)
  writeRingId(w, s.ringId)
  w.u16(s.windows.window)
  w.u16(s.windows.personalWindow)
  w.u16(s.windows.acceleratedWindow)
  w.u8(s.acceleratedRing ? 1 : 0)
  w.zeros(1)
  w.u32(s.sessions)
  w.u32(s.groups)
  for (const f of COUNTER_FIELDS) w.u64(s.counters[f])
  w.u16(s.members.length)
  w.u8(strings.name.length)
  w.u8(strings.version.length)
  w.u8(strings.detail.length)
  w.zeros(3)
  for (const m of s.members) w.u32(m)
  w.bytes(strings.name)
  w.bytes(strings.version)
  w.bytes(strings.detail)
}

const writeBody = (w: Writer, p: MonitorPacket, strings: ReplyStrings | undefined): void => {
  switch (p._tag) {
    case "MON_STATUS_REQUEST":
    case "MON_RELOAD":
      return writePrefix(w, p)
    case "MON_PARTITION":
      checkCount(p.components.length, "components")
      writePrefix(w, p)
      w.u16(p.components.length)
      for (const c of p.components) writeOptionalI16(w, c, "partition component")
      return
    case "MON_FLOW_CONTROL":
      checkCount(p.perDaemon.length, "windows")
      writePrefix(w, p)
      writeOptionalI16(w, p.window, "Window")
      w.u16(p.perDaemon.length)
      for (const d of p.perDaemon) {
        writeOptionalI16(w, d.personalWindow, "PersonalWindow")
        writeOptionalI16(w, d.acceleratedWindow, "AcceleratedWindow")
      }
      return
    case "MON_KILL":
      checkCount(p.targets.length, "targets")
      writePrefix(w, p)
      w.u16(p.targets.length)
      for (const t of p.targets) w.u32(t)
      return
    case "MON_STATUS_REPLY":
      return writeReply(w, p, strings!)
  }
}

/**
 * Encodes a monitor packet (unsigned; see {@link signMonitorPacket}). Throws `RangeError` for
 * values that do not fit the layout (a programming error, never input from the network).
 *
 * @example
 * ```ts
 * const bytes = encodeMonitorPacket(configHash, { _tag: "MON_STATUS_REQUEST", replyPort: 40000, nonce: 7 })
 * ```
 */
export const encodeMonitorPacket = (configHash: number, p: MonitorPacket): Buffer => {
  const strings = p._tag === "MON_STATUS_REPLY" ? replyStrings(p) : undefined
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + bodyLength(p, strings))
  const w = writeHeader(buf, TAG_TYPE[p._tag], monitorStamp(configHash))
  writeBody(w, p, strings)
  return finishDatagram(buf)
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** A `u16` holding an `i16`: −1 gives `null` ("unchanged"), other negatives are malformed. */
const readOptionalI16 = (r: Reader, what: string): number | null => {
  const v = r.u16(what)
  if (v === UNCHANGED) return null
  if (v > MAX_I16) malformed(`${what} is negative`)
  return v
}

const readComponent = (r: Reader): number => {
  const v = readOptionalI16(r, "partition component")
  return v === null ? malformed("partition component is negative (use MON_KILL to stop a daemon)") : v
}

const readPrefix = (r: Reader): RequestPrefix => {
  const replyPort = r.u16("replyPort")
  if (replyPort === 0) malformed("replyPort is 0")
  const nonce = r.u32("nonce")
  return { replyPort, nonce }
}

const readEnum = <T>(values: ReadonlyArray<T>, code: number, what: string): T =>
  code < values.length ? values[code]! : malformed(`unknown ${what} ${code}`)

const readString = (r: Reader, n: number, what: string): string => r.bytes(n, what).toString("utf8")

const readList = <T>(n: number, read: () => T): Array<T> => {
  const out = new Array<T>(n)
  for (let i = 0; i < n; i++) out[i] = read()
  return out
}

const readCounters = (r: Reader): MonitorCounters => {
  const out: Record<string, number> = {}
  for (const f of COUNTER_FIELDS) out[f] = r.u64(f)
  return out as MonitorCounters
}

const readAnswered = (code: number): MonitorRequest["_tag"] => {
  const tag = TYPE_TAG.get(code)
  return tag === undefined || tag === "MON_STATUS_REPLY" ? malformed(`reply answers type ${code}`) : tag
}

const decodeReplyBody = (r: Reader): MonStatusReply => {
  const nonce = r.u32("nonce")
  const answered = readAnswered(r.u8())
  const outcome = readEnum(REPLY_OUTCOMES, r.u8(), "outcome")
  const state = readEnum(ENGINE_STATES, r.u8(), "engine state")
  const gstate = readEnum(GROUP_STATES, r.u8(), "gstate")
  const uptimeMs = r.u64("uptimeMs")
  const myId = r.u32("myId")
  const leaderId = r.u32("leaderId")
  const ringId = readRingId(r)
  const windows = { window: r.u16("Window"), personalWindow: r.u16("PersonalWindow"), acceleratedWindow: r.u16("AcceleratedWindow") }
  const ar = r.u8()
  if (ar > 1) malformed("acceleratedRing > 1")
  r.skip(1)
  const sessions = r.u32("sessions")
  const groups = r.u32("groups")
  const counters = readCounters(r)
  const memberCount = r.u16()
  const nameLength = r.u8()
  const versionLength = r.u8()
  const detailLength = r.u8()
  r.skip(3)
  const members = readList(memberCount, () => r.u32("member"))
  const daemonName = readString(r, nameLength, "daemon name")
  const version = readString(r, versionLength, "version")
  const detail = readString(r, detailLength, "detail")
  return {
    _tag: "MON_STATUS_REPLY",
    nonce,
    answered,
    outcome,
    detail,
    status: {
      uptimeMs, state, gstate, myId, leaderId, ringId, windows, acceleratedRing: ar === 1, sessions, groups, counters,
      members, daemonName, version
    }
  }
}

const decodeBody = (type: MonitorPacketType, r: Reader): MonitorPacket => {
  switch (type) {
    case MonitorPacketType.MON_STATUS_REQUEST:
      return { _tag: "MON_STATUS_REQUEST", ...readPrefix(r) }
    case MonitorPacketType.MON_RELOAD:
      return { _tag: "MON_RELOAD", ...readPrefix(r) }
    case MonitorPacketType.MON_PARTITION: {
      const prefix = readPrefix(r)
      const components = readList(r.u16(), () => readComponent(r))
      return { _tag: "MON_PARTITION", ...prefix, components }
    }
    case MonitorPacketType.MON_FLOW_CONTROL: {
      const prefix = readPrefix(r)
      const window = readOptionalI16(r, "Window")
      const perDaemon = readList(r.u16(), () => ({
        personalWindow: readOptionalI16(r, "PersonalWindow"),
        acceleratedWindow: readOptionalI16(r, "AcceleratedWindow")
      }))
      return { _tag: "MON_FLOW_CONTROL", ...prefix, window, perDaemon }
    }
    case MonitorPacketType.MON_KILL: {
      const prefix = readPrefix(r)
      const targets = readList(r.u16(), () => r.u32("kill target"))
      return { _tag: "MON_KILL", ...prefix, targets }
    }
    case MonitorPacketType.MON_STATUS_REPLY:
      return decodeReplyBody(r)
  }
}

export type MonitorHeader = CommonHeaderOf<MonitorPacketType>

export type MonitorDecodeResult =
  | { readonly ok: true; readonly header: MonitorHeader; readonly packet: MonitorPacket }
  | {
    readonly ok: false
    readonly reason: HeaderReject | "malformed"
    readonly detail: string
    readonly header?: MonitorHeader
  }

/**
 * Decodes a whole monitor datagram (without its MAC trailer: {@link verifyMonitorPacket} strips
 * it). Never throws. The header checks of §4.1 that need no configuration are done here; the
 * config hash and the source address are the caller's (§10).
 */
export const decodeMonitorPacket = (bytes: Buffer): MonitorDecodeResult => {
  const header = readHeaderOf(bytes, isMonitorPacketType)
  if (typeof header === "string") return { ok: false, reason: header, detail: header }
  try {
    const r = bodyReader(bytes)
    const packet = decodeBody(header.type, r)
    r.done(packet._tag)
    return { ok: true, header, packet }
  } catch (e) {
    if (e instanceof ProtocolError) return { ok: false, reason: "malformed", detail: e.reason, header }
    throw e
  }
}

// ---------------------------------------------------------------------------------------------
// MonitorKey (§10 [N])

/** The HMAC key of a configuration's `MonitorKey` text: its UTF-8 bytes. */
export const monitorKeyBytes = (text: string): Buffer => Buffer.from(text, "utf8")

const mac = (packet: Uint8Array, key: Uint8Array): Buffer => createHmac("sha256", key).update(packet).digest()

/** `packet` followed by its 32-byte HMAC-SHA-256 under `key`. */
export const signMonitorPacket = (packet: Buffer, key: Uint8Array): Buffer => Buffer.concat([packet, mac(packet, key)])

export type MonitorVerifyResult =
  | { readonly ok: true; readonly packet: Buffer }
  | { readonly ok: false; readonly reason: "short" | "mac" }

/**
 * Checks the trailer of a signed packet (constant time) and returns the packet without it.
 *
 * @example
 * ```ts
 * const v = verifyMonitorPacket(datagram, key)
 * if (v.ok) decodeMonitorPacket(v.packet)
 * ```
 */
export const verifyMonitorPacket = (bytes: Buffer, key: Uint8Array): MonitorVerifyResult => {
  if (bytes.length < HEADER_LENGTH + MONITOR_MAC_LENGTH) return { ok: false, reason: "short" }
  const packet = bytes.subarray(0, bytes.length - MONITOR_MAC_LENGTH)
  const trailer = bytes.subarray(bytes.length - MONITOR_MAC_LENGTH)
  return timingSafeEqual(trailer, mac(packet, key)) ? { ok: true, packet } : { ok: false, reason: "mac" }
}
