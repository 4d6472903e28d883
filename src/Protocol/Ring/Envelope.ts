/**
 * The message envelope (daemon-protocol §4.4): the reassembled bytes of one ordered message —
 * a client's data, a join, a leave, a session kill, or a GROUPS_STATE exchange message.
 *
 * Decision (the spec leaves byte 2 reserved): bit 0 of byte 2 records that the client wrote its
 * header big-endian, so that a receiving daemon can give the message the `hint` bytes the sender
 * wrote (client-protocol §4.2: `hint` passes through untouched; a Java sender's `mess_type` 7
 * arrives as `00 00 07 00`). Other bits of bytes 2–3 stay 0.
 */
import { ProtocolError } from "../ProtocolError.js"
import { malformed, Reader, Writer } from "./Wire.js"

export const ENVELOPE_VERSION = 1

export type EnvelopeKind = "CLIENT_DATA" | "GROUP_JOIN" | "GROUP_LEAVE" | "SESSION_KILL" | "GROUPS_STATE"

const KIND_CODES: Record<EnvelopeKind, number> = {
  CLIENT_DATA: 1,
  GROUP_JOIN: 2,
  GROUP_LEAVE: 3,
  SESSION_KILL: 4,
  GROUPS_STATE: 5
}
const KINDS: ReadonlyArray<EnvelopeKind> = ["CLIENT_DATA", "GROUP_JOIN", "GROUP_LEAVE", "SESSION_KILL", "GROUPS_STATE"]

/** Bounds of §4.4: names are ≤ 31 bytes (client-protocol §1), at most 100 groups. */
const MAX_NAME = 31
const MAX_GROUPS = 100
const SENDER_BIG_ENDIAN = 0x01

export interface Envelope {
  readonly kind: EnvelopeKind
  /** The client's service word without the endian flag (client-protocol §4.3). */
  readonly service: number
  /** Signed 16-bit `mess_type`. */
  readonly messType: number
  /** The client wrote its header big-endian (see the decision above). */
  readonly senderBigEndian: boolean
  /** The sender's private group (latin1, no NUL). */
  readonly sender: string
  readonly groups: ReadonlyArray<string>
  readonly payload: Uint8Array
}

const nameLength = (name: string, what: string): number => {
  if (name.length > MAX_NAME) throw new RangeError(`${what} "${name}" is longer than ${MAX_NAME} bytes`)
  return name.length
}

/** Bytes of `e` encoded (RangeError where {@link encodeEnvelope} would throw one). */
export const envelopeLength = (e: Envelope): number => {
  if (e.groups.length > MAX_GROUPS) throw new RangeError(`${e.groups.length} groups`)
  return 10 + 1 + nameLength(e.sender, "sender") + 2 +
    e.groups.reduce((n, g) => n + 1 + nameLength(g, "group"), 0) + 4 + e.payload.length
}

export const encodeEnvelope = (e: Envelope): Buffer => {
  const w = new Writer(Buffer.allocUnsafe(envelopeLength(e)))
  w.u8(ENVELOPE_VERSION)
  w.u8(KIND_CODES[e.kind])
  w.u8(e.senderBigEndian ? SENDER_BIG_ENDIAN : 0)
  w.u8(0)
  w.u32(e.service)
  w.u16(e.messType & 0xffff)
  w.u8(e.sender.length)
  w.latin1(e.sender)
  w.u16(e.groups.length)
  for (const g of e.groups) {
    w.u8(g.length)
    w.latin1(g)
  }
  w.u32(e.payload.length)
  w.bytes(e.payload)
  return w.buf
}

const readName = (r: Reader, what: string): string => {
  const n = r.u8(`${what} length`)
  if (n > MAX_NAME) malformed(`${what} of ${n} bytes`)
  return r.bytes(n, what).toString("latin1")
}

export type EnvelopeDecode =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly error: ProtocolError }

/** Decodes untrusted bytes; never throws (the payload is a view, not a copy). */
export const decodeEnvelope = (bytes: Buffer): EnvelopeDecode => {
  try {
    const r = new Reader(bytes, 0)
    const version = r.u8("envVersion")
    if (version !== ENVELOPE_VERSION) malformed(`envelope version ${version}`)
    const kind = KINDS[r.u8("kind") - 1]
    if (kind === undefined) malformed("unknown envelope kind")
    const flags = r.u8("flags")
    if ((flags & ~SENDER_BIG_ENDIAN) !== 0 || r.u8("reserved") !== 0) malformed("reserved bits set")
    const service = r.u32("service")
    const messType = (r.u16("messType") << 16) >> 16
    const sender = readName(r, "sender")
    const count = r.u16("groupCount")
    if (count > MAX_GROUPS) malformed(`${count} groups`)
    const groups: Array<string> = []
    for (let i = 0; i < count; i++) groups.push(readName(r, "group"))
    const payload = r.bytes(r.u32("payloadLen"), "payload")
    r.done("envelope")
    return {
      ok: true,
      envelope: { kind: kind!, service, messType, senderBigEndian: (flags & SENDER_BIG_ENDIAN) !== 0, sender, groups, payload }
    }
  } catch (e) {
    if (e instanceof ProtocolError) return { ok: false, error: e }
    throw e
  }
}
