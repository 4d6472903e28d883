/**
 * The 24-byte common header of every daemon ↔ daemon datagram (daemon-protocol §4.1) and the
 * packet type codes (§4.2).
 */
import { crc32c } from "./Crc32c.js"
import { malformed, Reader, Writer } from "./Wire.js"

export const HEADER_LENGTH = 24
export const MAGIC_0 = 0x53 // "S"
export const MAGIC_1 = 0x54 // "T"
export const PROTOCOL_VERSION = 1

/** §4.1 `flags`. */
export const FLAG_HAS_CRC = 0x1
export const FLAG_RETRANSMISSION = 0x2
const KNOWN_FLAGS = FLAG_HAS_CRC | FLAG_RETRANSMISSION

export const OFF_VERSION = 2
export const OFF_TYPE = 3
export const OFF_CONFIG_HASH = 4
export const OFF_SENDER_ID = 8
export const OFF_SENDER_INCARNATION = 12
export const OFF_FLAGS = 16
export const OFF_CRC = 20

/** §4.2 packet type codes. */
export const PacketType = {
  DATA: 0x01,
  TOKEN: 0x02,
  TOKEN_REQUEST: 0x03,
  JOIN: 0x10,
  COMMIT: 0x11,
  PROBE: 0x12,
  LEAVE: 0x13,
  CONFIG_MISMATCH: 0x14
} as const
export type PacketType = (typeof PacketType)[keyof typeof PacketType]

const isKnownType = (t: number): t is PacketType =>
  t === 0x01 || t === 0x02 || t === 0x03 || (t >= 0x10 && t <= 0x14)

/**
 * §4.2 / §10 monitor packet type codes. Kept apart from {@link PacketType}: the driver routes them
 * to `decodeMonitorPacket` (`./Monitor.ts`), and `readCommonHeader` refuses them.
 */
export const MonitorPacketType = {
  MON_STATUS_REQUEST: 0x20,
  MON_STATUS_REPLY: 0x21,
  MON_PARTITION: 0x22,
  MON_FLOW_CONTROL: 0x23,
  MON_RELOAD: 0x24,
  MON_KILL: 0x25
} as const
export type MonitorPacketType = (typeof MonitorPacketType)[keyof typeof MonitorPacketType]

/** The common header with its type narrowed to `T` (ring packets, or monitor packets). */
export interface CommonHeaderOf<T extends number> {
  readonly type: T
  readonly configHash: number
  /** The transmitter (may differ from a DATA packet's originator). */
  readonly senderId: number
  readonly senderIncarnation: number
  readonly flags: number
}

export type CommonHeader = CommonHeaderOf<PacketType>

/** What an encoder needs to stamp a header; the CRC is added by {@link finishDatagram}. */
export interface HeaderStamp {
  readonly configHash: number
  readonly senderId: number
  readonly senderIncarnation: number
  /** Add CRC-32C (`HAS_CRC`). */
  readonly crc: boolean
}

/** Writes the header (CRC field zero) at offset 0 and returns a writer positioned at the body. */
export const writeHeader = (buf: Buffer, type: PacketType | MonitorPacketType, stamp: HeaderStamp, extraFlags = 0): Writer => {
  const w = new Writer(buf, 0)
  w.u8(MAGIC_0)
  w.u8(MAGIC_1)
  w.u8(PROTOCOL_VERSION)
  w.u8(type)
  w.u32(stamp.configHash)
  w.u32(stamp.senderId)
  w.u32(stamp.senderIncarnation)
  w.u16((stamp.crc ? FLAG_HAS_CRC : 0) | extraFlags)
  w.u16(0)
  w.u32(0)
  return w
}

/** Fills the CRC field if `HAS_CRC` is set (§4.1: CRC of the whole datagram, field zeroed). */
export const finishDatagram = (buf: Buffer): Buffer => {
  if (buf.readUInt16LE(OFF_FLAGS) & FLAG_HAS_CRC) {
    buf.writeUInt32LE(0, OFF_CRC)
    buf.writeUInt32LE(crc32c(buf), OFF_CRC)
  }
  return buf
}

/**
 * Re-stamps a stored datagram for retransmission (§5.6: original bytes, `RETRANSMISSION` flag,
 * sender = me), under my current configuration hash: a packet stored before a reload (§9.5) is
 * retransmitted to daemons that run on the new one. Returns a copy; the stored bytes are left
 * untouched.
 */
export const restampForRetransmission = (orig: Buffer, stamp: HeaderStamp): Buffer => {
  const b = Buffer.allocUnsafe(orig.length)
  orig.copy(b)
  b.writeUInt32LE(stamp.configHash >>> 0, OFF_CONFIG_HASH)
  b.writeUInt32LE(stamp.senderId >>> 0, OFF_SENDER_ID)
  b.writeUInt32LE(stamp.senderIncarnation >>> 0, OFF_SENDER_INCARNATION)
  b.writeUInt16LE(b.readUInt16LE(OFF_FLAGS) | FLAG_RETRANSMISSION, OFF_FLAGS)
  return finishDatagram(b)
}

/** Why a header was refused; `version` lets the caller answer CONFIG_MISMATCH (§4.1, §11.6). */
export type HeaderReject = "short" | "magic" | "version" | "type" | "flags" | "crc"

export const checkCrc = (buf: Buffer): boolean => {
  const stored = buf.readUInt32LE(OFF_CRC)
  buf.writeUInt32LE(0, OFF_CRC)
  const actual = crc32c(buf)
  buf.writeUInt32LE(stored, OFF_CRC)
  return stored === actual
}

/**
 * Checks length, magic, version, type (one `isType` accepts), flags and CRC (the checks of §4.1
 * that need no configuration; config hash, sender and source address are checked by the engine).
 */
export const readHeaderOf = <T extends number>(
  buf: Buffer,
  isType: (t: number) => t is T
): CommonHeaderOf<T> | HeaderReject => {
  if (buf.length < HEADER_LENGTH) return "short"
  if (buf[0] !== MAGIC_0 || buf[1] !== MAGIC_1) return "magic"
  if (buf[OFF_VERSION] !== PROTOCOL_VERSION) return "version"
  const type = buf[OFF_TYPE]!
  if (!isType(type)) return "type"
  const flags = buf.readUInt16LE(OFF_FLAGS)
  if ((flags & ~KNOWN_FLAGS) !== 0) return "flags"
  if (flags & FLAG_HAS_CRC) {
    if (!checkCrc(buf)) return "crc"
  } else if (buf.readUInt32LE(OFF_CRC) !== 0) return "crc"
  return {
    type,
    configHash: buf.readUInt32LE(OFF_CONFIG_HASH),
    senderId: buf.readUInt32LE(OFF_SENDER_ID),
    senderIncarnation: buf.readUInt32LE(OFF_SENDER_INCARNATION),
    flags
  }
}

/** {@link readHeaderOf} for the ring packets of §4.2 (monitor types are refused as `"type"`). */
export const readCommonHeader = (buf: Buffer): CommonHeader | HeaderReject => readHeaderOf(buf, isKnownType)

/** A reader positioned at the body. */
export const bodyReader = (buf: Buffer): Reader => new Reader(buf, HEADER_LENGTH)

export { malformed }
