/**
 * `TOKEN_REQUEST`, `LEAVE`, `PROBE`, `CONFIG_MISMATCH` (daemon-protocol §4.6).
 */
import { HEADER_LENGTH, type HeaderStamp, PacketType, finishDatagram, writeHeader } from "./Header.js"
import { RING_ID_LENGTH, type RingId, readRingId, writeRingId } from "./RingId.js"
import { type Reader } from "./Wire.js"

export interface TokenRequest {
  readonly _tag: "TOKEN_REQUEST"
  readonly ringId: RingId
}
export interface Leave {
  readonly _tag: "LEAVE"
  readonly ringId: RingId
}
export interface Probe {
  readonly _tag: "PROBE"
  readonly ringId: RingId
  readonly members: ReadonlyArray<number>
}
export interface ConfigMismatch {
  readonly _tag: "CONFIG_MISMATCH"
  readonly myHash: number
  readonly myVersion: number
}

const ringIdOnly = (type: PacketType, stamp: HeaderStamp, ringId: RingId): Buffer => {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + RING_ID_LENGTH)
  const w = writeHeader(buf, type, stamp)
  writeRingId(w, ringId)
  return finishDatagram(buf)
}

export const encodeTokenRequest = (stamp: HeaderStamp, ringId: RingId): Buffer =>
  ringIdOnly(PacketType.TOKEN_REQUEST, stamp, ringId)
export const encodeLeave = (stamp: HeaderStamp, ringId: RingId): Buffer => ringIdOnly(PacketType.LEAVE, stamp, ringId)

export const encodeProbe = (stamp: HeaderStamp, ringId: RingId, members: ReadonlyArray<number>): Buffer => {
  if (members.length > 0xffff) throw new RangeError("PROBE: too many members")
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + RING_ID_LENGTH + 4 + 4 * members.length)
  const w = writeHeader(buf, PacketType.PROBE, stamp)
  writeRingId(w, ringId)
  w.u16(members.length)
  w.u16(0)
  for (const m of members) w.u32(m)
  return finishDatagram(buf)
}

export const encodeConfigMismatch = (stamp: HeaderStamp, myHash: number, myVersion: number): Buffer => {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + 8)
  const w = writeHeader(buf, PacketType.CONFIG_MISMATCH, stamp)
  w.u32(myHash)
  w.u8(myVersion)
  w.zeros(3)
  return finishDatagram(buf)
}

export const decodeTokenRequestBody = (r: Reader): TokenRequest => {
  const ringId = readRingId(r)
  r.done("TOKEN_REQUEST")
  return { _tag: "TOKEN_REQUEST", ringId }
}
export const decodeLeaveBody = (r: Reader): Leave => {
  const ringId = readRingId(r)
  r.done("LEAVE")
  return { _tag: "LEAVE", ringId }
}
export const decodeProbeBody = (r: Reader): Probe => {
  const ringId = readRingId(r)
  const n = r.u16()
  r.skip(2)
  const members = new Array<number>(n)
  for (let i = 0; i < n; i++) members[i] = r.u32("probe member")
  r.done("PROBE")
  return { _tag: "PROBE", ringId, members }
}
export const decodeConfigMismatchBody = (r: Reader): ConfigMismatch => {
  const myHash = r.u32()
  const myVersion = r.u8()
  r.skip(3)
  r.done("CONFIG_MISMATCH")
  return { _tag: "CONFIG_MISMATCH", myHash, myVersion }
}
