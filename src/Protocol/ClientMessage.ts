/**
 * Client → daemon messages (client-protocol §5): data multicasts, join, leave and kill all share
 * one wire form, header + 32-byte group names + data.
 */
import { writeGroupName } from "./Bytes.js"
import { HEADER_LENGTH, JOIN_MESS, KILL_MESS, LEAVE_MESS, MAX_GROUP_NAME } from "./Constants.js"
import { type ByteOrder, encodeHint, writeHeader } from "./Header.js"

export interface OutgoingMessage {
  /** Service bits (plus `SELF_DISCARD`) or one of `JOIN_MESS`/`LEAVE_MESS`/`KILL_MESS`; no flag. */
  readonly type: number
  /** The sender's own private group. */
  readonly sender: string
  readonly groups: ReadonlyArray<string>
  readonly messType: number
  readonly data: Uint8Array
  /** Little-endian (libspread on x86, and us) unless a test plays a Java client. */
  readonly byteOrder?: ByteOrder
}

/** Bytes of `m` on the wire: header, 32 bytes per group, data. */
export const clientMessageLength = (m: OutgoingMessage): number => HEADER_LENGTH + m.groups.length * MAX_GROUP_NAME + m.data.length

/** Writes `m` at `offset` (room for {@link clientMessageLength} bytes is the caller's). */
export const encodeClientMessageInto = (target: Buffer, offset: number, m: OutgoingMessage): void => {
  const byteOrder = m.byteOrder ?? "little"
  writeHeader(target, offset, {
    type: m.type,
    name: m.sender,
    numGroups: m.groups.length,
    hint: encodeHint(m.messType, byteOrder),
    dataLen: m.data.length
  }, byteOrder)
  const groupsAt = offset + HEADER_LENGTH
  for (let i = 0; i < m.groups.length; i++) writeGroupName(target, groupsAt + i * MAX_GROUP_NAME, m.groups[i]!)
  target.set(m.data, groupsAt + m.groups.length * MAX_GROUP_NAME)
}

/** Encodes one message as a single buffer (one write, client-protocol §12 item 3 spirit). */
export const encodeClientMessage = (m: OutgoingMessage): Buffer => {
  const buf = Buffer.allocUnsafe(clientMessageLength(m))
  encodeClientMessageInto(buf, 0, m)
  return buf
}

const EMPTY = new Uint8Array(0)

/** `SP_join` / `SP_leave` / `SP_disconnect` (client-protocol §5.2). */
export const encodeJoin = (sender: string, group: string, byteOrder?: ByteOrder): Buffer =>
  encodeClientMessage({ type: JOIN_MESS, sender, groups: [group], messType: 0, data: EMPTY, ...(byteOrder ? { byteOrder } : {}) })
export const encodeLeave = (sender: string, group: string, byteOrder?: ByteOrder): Buffer =>
  encodeClientMessage({ type: LEAVE_MESS, sender, groups: [group], messType: 0, data: EMPTY, ...(byteOrder ? { byteOrder } : {}) })
export const encodeKill = (sender: string, byteOrder?: ByteOrder): Buffer =>
  encodeClientMessage({ type: KILL_MESS, sender, groups: [sender], messType: 0, data: EMPTY, ...(byteOrder ? { byteOrder } : {}) })
