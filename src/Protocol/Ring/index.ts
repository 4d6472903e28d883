/**
 * Daemon ↔ daemon packet codecs (daemon-protocol §4). `decodeRingPacket` is the single entry
 * point for received datagrams: it never throws; malformed bytes give a typed rejection.
 */
import { ProtocolError } from "../ProtocolError.js"
import { type Commit, decodeCommitBody } from "./CommitPacket.js"
import {
  type ConfigMismatch, decodeConfigMismatchBody, decodeLeaveBody, decodeProbeBody, decodeTokenRequestBody, type Leave,
  type Probe, type TokenRequest
} from "./ControlPackets.js"
import { type DataPacket, decodeDataBody } from "./DataPacket.js"
import { bodyReader, type CommonHeader, type HeaderReject, PacketType, readCommonHeader } from "./Header.js"
import { decodeJoinBody, type Join } from "./JoinPacket.js"
import { decodeTokenBody, type Token } from "./TokenPacket.js"

export * from "./CommitPacket.js"
export * from "./ControlPackets.js"
export * from "./Crc32c.js"
export * from "./DataPacket.js"
export * from "./Envelope.js"
export * from "./Header.js"
export * from "./JoinPacket.js"
export * from "./RingId.js"
export * from "./TokenPacket.js"

export type RingPacketBody =
  | { readonly _tag: "DATA"; readonly data: DataPacket }
  | { readonly _tag: "TOKEN"; readonly token: Token }
  | { readonly _tag: "JOIN"; readonly join: Join }
  | { readonly _tag: "COMMIT"; readonly commit: Commit }
  | TokenRequest
  | Leave
  | Probe
  | ConfigMismatch

export type DecodeResult =
  | { readonly ok: true; readonly header: CommonHeader; readonly body: RingPacketBody }
  | { readonly ok: false; readonly reason: HeaderReject | "malformed"; readonly detail: string; readonly header?: CommonHeader }

/** Decodes a whole datagram. Never throws. */
export const decodeRingPacket = (bytes: Buffer): DecodeResult => {
  const header = readCommonHeader(bytes)
  if (typeof header === "string") return { ok: false, reason: header, detail: header }
  try {
    const r = bodyReader(bytes)
    switch (header.type) {
      case PacketType.DATA:
        return { ok: true, header, body: { _tag: "DATA", data: decodeDataBody(r) } }
      case PacketType.TOKEN:
        return { ok: true, header, body: { _tag: "TOKEN", token: decodeTokenBody(r) } }
      case PacketType.JOIN:
        return { ok: true, header, body: { _tag: "JOIN", join: decodeJoinBody(r) } }
      case PacketType.COMMIT:
        return { ok: true, header, body: { _tag: "COMMIT", commit: decodeCommitBody(r) } }
      case PacketType.TOKEN_REQUEST:
        return { ok: true, header, body: decodeTokenRequestBody(r) }
      case PacketType.LEAVE:
        return { ok: true, header, body: decodeLeaveBody(r) }
      case PacketType.PROBE:
        return { ok: true, header, body: decodeProbeBody(r) }
      case PacketType.CONFIG_MISMATCH:
        return { ok: true, header, body: decodeConfigMismatchBody(r) }
    }
  } catch (e) {
    if (e instanceof ProtocolError) return { ok: false, reason: "malformed", detail: e.reason, header }
    throw e
  }
}
