/**
 * Daemon → client messages (client-protocol §6): their encoders (used by the daemon) and the
 * decoder of the client receive algorithm (§7).
 */
import { readGroupNames, writeGroupName } from "./Bytes.js"
import {
  CAUSED_BY_DISCONNECT,
  CAUSED_BY_JOIN,
  CAUSED_BY_LEAVE,
  CAUSED_BY_NETWORK,
  ENDIAN_TYPE,
  HEADER_LENGTH,
  MAX_GROUP_NAME,
  REG_MEMB_MESS,
  REGULAR_MESS,
  REJECT_MESS,
  SELF_DISCARD,
  TRANSITION_MESS
} from "./Constants.js"
import { GROUP_ID_LENGTH, type GroupId, readGroupId, writeGroupId } from "./GroupId.js"
import { decodeHint, encodeHint, type Header, HINT_OFFSET, readHeader, readHeaderName, writeHeader } from "./Header.js"
import { protocolError } from "./ProtocolError.js"

export type MembershipCause = "join" | "leave" | "disconnect" | "network"

const causeBits: Record<MembershipCause, number> = {
  join: CAUSED_BY_JOIN,
  leave: CAUSED_BY_LEAVE,
  disconnect: CAUSED_BY_DISCONNECT,
  network: CAUSED_BY_NETWORK
}

/** Offset of the vs_sets inside a regular membership body (§6.2). */
const VS_SETS_OFFSET = 20

// ---------------------------------------------------------------------------------------------
// Encoders (daemon side). Always little-endian with the flag, as our daemon writes (§13 item 3).

export interface RegularMembership {
  readonly cause: MembershipCause
  readonly group: string
  /** Every current member, in §6.7 order. */
  readonly members: ReadonlyArray<string>
  readonly groupId: GroupId
  /** Each set: the members that came together from one previous configuration (§6.3). */
  readonly vsSets: ReadonlyArray<ReadonlyArray<string>>
  /** Which set holds the receiving daemon's members (or a local joiner's own set, §6.3). */
  readonly localVsSetIndex: number
}

/** `REG_MEMB_MESS | CAUSED_BY_*` (§6.2, §6.3). `data_len` = 20 + Σ(4 + 32·nᵢ). */
export const encodeRegularMembership = (m: RegularMembership): Buffer => {
  let bodyLength = VS_SETS_OFFSET
  let localOffset = 0
  for (let i = 0; i < m.vsSets.length; i++) {
    if (i === m.localVsSetIndex) localOffset = bodyLength - VS_SETS_OFFSET
    bodyLength += 4 + MAX_GROUP_NAME * m.vsSets[i]!.length
  }
  const groupsLength = MAX_GROUP_NAME * m.members.length
  const buf = Buffer.alloc(HEADER_LENGTH + groupsLength + bodyLength)
  writeHeader(buf, 0, {
    type: REG_MEMB_MESS | causeBits[m.cause],
    name: m.group,
    numGroups: m.members.length,
    hint: ENDIAN_TYPE,
    dataLen: bodyLength
  })
  for (let i = 0; i < m.members.length; i++) writeGroupName(buf, HEADER_LENGTH + i * MAX_GROUP_NAME, m.members[i]!)
  const body = HEADER_LENGTH + groupsLength
  writeGroupId(buf, body, m.groupId)
  buf.writeInt32LE(m.vsSets.length, body + 12)
  buf.writeInt32LE(localOffset, body + 16)
  let pos = body + VS_SETS_OFFSET
  for (const set of m.vsSets) {
    buf.writeInt32LE(set.length, pos)
    pos += 4
    for (const member of set) {
      writeGroupName(buf, pos, member)
      pos += MAX_GROUP_NAME
    }
  }
  return buf
}

/** `TRANSITION_MESS`: 60 bytes, body = the group's old gid (§6.4). */
export interface DataDelivery {
  /** The sender's type word without the endian flag; only service bits and SELF_DISCARD are kept. */
  readonly service: number
  /** The sender's private group. */
  readonly sender: string
  readonly groups: ReadonlyArray<string>
  readonly messType: number
  /** The sender wrote its `hint` big-endian: the receiver gets the very bytes it wrote (§4.2). */
  readonly senderBigEndian: boolean
  readonly payload: Uint8Array
}

/**
 * A data message as receivers get it (§6.1): our byte order for `type`, `num_groups` and
 * `data_len`, the type reduced to the service bits and SELF_DISCARD (§12 item 6: clients cannot
 * forge membership bits), `hint` as the sender wrote it, the destination groups, the payload.
 */
export const encodeDataDelivery = (d: DataDelivery): Buffer => {
  const groupsEnd = HEADER_LENGTH + MAX_GROUP_NAME * d.groups.length
  const buf = Buffer.allocUnsafe(groupsEnd + d.payload.length)
  const byteOrder = d.senderBigEndian ? "big" : "little"
  writeHeader(buf, 0, {
    type: d.service & (REGULAR_MESS | SELF_DISCARD),
    name: d.sender,
    numGroups: d.groups.length,
    hint: encodeHint(d.messType, byteOrder),
    dataLen: d.payload.length
  })
  if (d.senderBigEndian) buf.writeUInt32BE(encodeHint(d.messType, byteOrder), HINT_OFFSET)
  for (let i = 0; i < d.groups.length; i++) writeGroupName(buf, HEADER_LENGTH + MAX_GROUP_NAME * i, d.groups[i]!)
  buf.set(d.payload, groupsEnd)
  return buf
}

export const encodeTransition = (group: string, groupId: GroupId): Buffer => {
  const buf = Buffer.alloc(HEADER_LENGTH + GROUP_ID_LENGTH)
  writeHeader(buf, 0, { type: TRANSITION_MESS, name: group, numGroups: 0, hint: ENDIAN_TYPE, dataLen: GROUP_ID_LENGTH })
  writeGroupId(buf, HEADER_LENGTH, groupId)
  return buf
}

/** Self-leave: `CAUSED_BY_LEAVE` alone, 48 bytes (§6.5). */
export const encodeSelfLeave = (group: string): Buffer => {
  const buf = Buffer.alloc(HEADER_LENGTH)
  writeHeader(buf, 0, { type: CAUSED_BY_LEAVE, name: group, numGroups: 0, hint: ENDIAN_TYPE, dataLen: 0 })
  return buf
}

/**
 * Reject (§6.6): the original message sent back with `REJECT_MESS`, an `old_type` word after the
 * header, and the sender's private group appended to the groups (replacing the last at 100).
 */
export const encodeRejectMessage = (
  original: { readonly type: number; readonly sender: string; readonly groups: ReadonlyArray<string>; readonly hint: number; readonly data: Uint8Array },
  oldType: number,
  maxGroups: number
): Buffer => {
  const groups = original.groups.length >= maxGroups
    ? [...original.groups.slice(0, maxGroups - 1), original.sender]
    : [...original.groups, original.sender]
  const groupsLength = MAX_GROUP_NAME * groups.length
  const buf = Buffer.alloc(HEADER_LENGTH + 4 + groupsLength + original.data.length)
  writeHeader(buf, 0, {
    type: REJECT_MESS | (original.type & 0x40),
    name: original.sender,
    numGroups: groups.length,
    hint: original.hint,
    dataLen: original.data.length
  })
  buf.writeUInt32LE((oldType | ENDIAN_TYPE) >>> 0, HEADER_LENGTH)
  for (let i = 0; i < groups.length; i++) writeGroupName(buf, HEADER_LENGTH + 4 + i * MAX_GROUP_NAME, groups[i]!)
  buf.set(original.data, HEADER_LENGTH + 4 + groupsLength)
  return buf
}

// ---------------------------------------------------------------------------------------------
// Decoder (client side, §7).

/** What `SP_receive` reports for a data message or a reject of one (§7.2). */
interface Multicast {
  readonly serviceType: number
  readonly sender: string
  readonly groups: ReadonlyArray<string>
  readonly messType: number
  readonly endianMismatch: boolean
  readonly data: Buffer
}

export interface DataMessage extends Multicast {
  readonly _tag: "Data"
  /** Flag-cleared type: service bits, `SELF_DISCARD` and whatever else the sender set. */
  readonly serviceType: number
}

/** A regular membership as the client receives it: the view, plus what `SP_receive` reports. */
export interface MembershipMessage extends RegularMembership {
  readonly _tag: "Membership"
  readonly serviceType: number
  /** The joiner/leaver/disconnected member (`SP_get_memb_info`); undefined for network. */
  readonly changedMember: string | undefined
  /** The receiver's own index in `members` (what `SP_receive` returns as `mess_type`), or −1. */
  readonly myIndex: number
}

export interface TransitionMessage {
  readonly _tag: "Transition"
  readonly serviceType: number
  readonly group: string
  /** The group's gid before the change (swapped properly: §12 item 4). */
  readonly groupId: GroupId
}

export interface SelfLeaveMessage {
  readonly _tag: "SelfLeave"
  readonly serviceType: number
  readonly group: string
}

export interface RejectMessage extends Multicast {
  readonly _tag: "Reject"
  /** `old_type | REJECT_MESS`, flag cleared (§7.1 step 10). */
  readonly serviceType: number
}

export type DaemonMessage = DataMessage | MembershipMessage | TransitionMessage | SelfLeaveMessage | RejectMessage

const clearFlag = (type: number): number => (type & ~ENDIAN_TYPE) >>> 0

/**
 * Total length of the daemon → client message whose header starts `buf[offset]`, or throws on a
 * negative count (§7.1 step 2: fatal, the stream is out of sync).
 */
export const daemonMessageLength = (h: Header): number => {
  if (h.numGroups < 0 || h.dataLen < 0) protocolError(`negative num_groups (${h.numGroups}) or data_len (${h.dataLen})`)
  return HEADER_LENGTH + ((h.type & REJECT_MESS) !== 0 ? 4 : 0) + MAX_GROUP_NAME * h.numGroups + h.dataLen
}

const causeOf = (type: number): MembershipCause => {
  if (type & CAUSED_BY_JOIN) return "join"
  if (type & CAUSED_BY_LEAVE) return "leave"
  if (type & CAUSED_BY_DISCONNECT) return "disconnect"
  if (type & CAUSED_BY_NETWORK) return "network"
  return protocolError(`membership message without a cause: type 0x${type.toString(16)}`)
}

const readInt = (buf: Buffer, offset: number, swapped: boolean): number =>
  swapped ? buf.readInt32BE(offset) : buf.readInt32LE(offset)

/** Parses a regular membership body (§6.2, §6.3, §7.4), checking every length against the body. */
const decodeRegularMembership = (
  buf: Buffer, h: Header, group: string, members: ReadonlyArray<string>, body: number, privateGroup: string
): MembershipMessage => {
  const end = body + h.dataLen
  if (h.dataLen < VS_SETS_OFFSET) protocolError(`membership body of ${h.dataLen} bytes is shorter than 20`)
  const groupId = readGroupId(buf, body, h.swapped)
  const numVsSets = readInt(buf, body + 12, h.swapped)
  const localOffset = readInt(buf, body + 16, h.swapped)
  if (numVsSets < 0 || numVsSets > (h.dataLen - VS_SETS_OFFSET) / 4) protocolError(`impossible num_vs_sets ${numVsSets}`)
  const vsSets: Array<Array<string>> = []
  let localVsSetIndex = -1
  let pos = body + VS_SETS_OFFSET
  for (let i = 0; i < numVsSets; i++) {
    if (pos + 4 > end) protocolError("vs_set runs past the membership body")
    if (pos - body - VS_SETS_OFFSET === localOffset) localVsSetIndex = i
    const n = readInt(buf, pos, h.swapped)
    if (n < 0 || pos + 4 + n * MAX_GROUP_NAME > end) protocolError(`vs_set of ${n} members runs past the body`)
    vsSets.push(readGroupNames(buf, pos + 4, n))
    pos += 4 + n * MAX_GROUP_NAME
  }
  const cause = causeOf(h.type)
  return {
    _tag: "Membership",
    serviceType: clearFlag(h.type),
    cause,
    group,
    members,
    groupId,
    vsSets,
    localVsSetIndex,
    changedMember: cause === "network" || vsSets.length === 0 ? undefined : vsSets[0]![0],
    myIndex: members.indexOf(privateGroup)
  }
}

/**
 * Decodes one whole daemon → client message (`buf` holds exactly its bytes) as the client
 * `privateGroup` receives it (§7.1). Throws {@link ProtocolError} on anything malformed.
 */
export const decodeDaemonMessage = (buf: Buffer, privateGroup: string): DaemonMessage => {
  if (buf.length < HEADER_LENGTH) protocolError(`message of ${buf.length} bytes is shorter than a header`)
  const h = readHeader(buf)
  const length = daemonMessageLength(h)
  if (length !== buf.length) protocolError(`message length ${buf.length} differs from its header's ${length}`)
  const name = readHeaderName(buf)
  const type = h.type
  const isReject = (type & REJECT_MESS) !== 0
  const groupsStart = HEADER_LENGTH + (isReject ? 4 : 0)
  const groups = readGroupNames(buf, groupsStart, h.numGroups)
  const body = groupsStart + MAX_GROUP_NAME * h.numGroups
  if (isReject) {
    const raw = buf.readUInt32LE(HEADER_LENGTH)
    const oldType = h.swapped ? buf.readUInt32BE(HEADER_LENGTH) : raw
    const hint = decodeHint(h.hint)
    return {
      _tag: "Reject",
      serviceType: clearFlag(oldType | REJECT_MESS),
      sender: name,
      groups,
      messType: hint.messType,
      endianMismatch: hint.endianMismatch,
      data: buf.subarray(body)
    }
  }
  if ((type & REGULAR_MESS) !== 0) {
    const hint = decodeHint(h.hint)
    return {
      _tag: "Data",
      serviceType: clearFlag(type),
      sender: name,
      groups,
      messType: hint.messType,
      endianMismatch: hint.endianMismatch,
      data: buf.subarray(body)
    }
  }
  if ((type & REG_MEMB_MESS) !== 0) return decodeRegularMembership(buf, h, name, groups, body, privateGroup)
  if ((type & TRANSITION_MESS) !== 0) {
    if (h.dataLen < GROUP_ID_LENGTH) protocolError(`transitional body of ${h.dataLen} bytes`)
    return { _tag: "Transition", serviceType: clearFlag(type), group: name, groupId: readGroupId(buf, body, h.swapped) }
  }
  if ((type & CAUSED_BY_LEAVE) !== 0) return { _tag: "SelfLeave", serviceType: clearFlag(type), group: name }
  return protocolError(`unknown message type 0x${type.toString(16)}`)
}

