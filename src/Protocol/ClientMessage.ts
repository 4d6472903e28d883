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

/** Encodes one message as a single buffer (one write, client-protocol §12 item 3 spirit). */
export const encodeClientMessage = (m: OutgoingMessage): Buffer => {
  const byteOrder = m.byteOrder ?? "little"
  const groupsLength = m.groups.length * MAX_GROUP_NAME
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + groupsLength + m.data.length)
  writeHeader(buf, 0, {
    type: m.type,
    name: m.sender,
    numGroups: m.groups.length,
    hint: encodeHint(m.messType, byteOrder),
    dataLen: m.data.length
  }, byteOrder)
  for (let i = 0; i < m.groups.length; i++) writeGroupName(buf, HEADER_LENGTH + i * MAX_GROUP_NAME, m.groups[i]!)
  buf.set(m.data, HEADER_LENGTH + groupsLength)
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
