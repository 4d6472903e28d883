/**
 * The checks libspread makes before anything reaches the wire (client-protocol §1, §5.1, §5.2,
 * §12), and the encoding of what passes them. Pure: each function returns what to send or the
 * error to report.
 */
import {
  AGREED_MESS,
  CAUSAL_MESS,
  encodeJoin,
  encodeLeave,
  FIFO_MESS,
  MAX_GROUP_NAME,
  MAX_GROUPS_PER_MESSAGE,
  type OutgoingMessage,
  REGULAR_MESS,
  RELIABLE_MESS,
  SAFE_MESS,
  SAFE_DATA_PLUS_GROUPS,
  SELF_DISCARD,
  UNRELIABLE_MESS
} from "../Protocol/index.js"
import { IllegalGroup, IllegalService, MessageTooLong } from "./Errors.js"

/** The six services by name (§4.3). */
export const ServiceTypes = {
  unreliable: UNRELIABLE_MESS,
  reliable: RELIABLE_MESS,
  fifo: FIFO_MESS,
  causal: CAUSAL_MESS,
  agreed: AGREED_MESS,
  safe: SAFE_MESS
} as const

/**
 * A service: a name, or the C value (`AGREED_MESS`, optionally `| SELF_DISCARD`). Exactly one
 * of the six service bits must be set; any other bit is dropped (§12 item 6).
 */
export type ServiceType = keyof typeof ServiceTypes | number

/** Options of a multicast. */
export interface MulticastOptions {
  /** Do not deliver the message back to the sender (`SELF_DISCARD`). Default false. */
  readonly selfDiscard?: boolean | undefined
}

/** The `type` word to send: one service bit, plus `SELF_DISCARD` if asked for. */
export const serviceWord = (service: ServiceType, selfDiscard: boolean): number | IllegalService => {
  const value = typeof service === "string" ? ServiceTypes[service] : service
  if (typeof value !== "number" || !Number.isInteger(value)) {
    return new IllegalService({ reason: `unknown service ${String(service)}` })
  }
  const bits = value & REGULAR_MESS
  // None is ILLEGAL_SERVICE in libspread; two would get the session killed by the daemon (§5.3 item 1).
  if (bits === 0 || (bits & (bits - 1)) !== 0) {
    return new IllegalService({ reason: `service 0x${(value >>> 0).toString(16)} must have exactly one bit of 0x3F` })
  }
  return bits | (selfDiscard || (value & SELF_DISCARD) !== 0 ? SELF_DISCARD : 0)
}

const isLatin1 = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false
  return true
}

/** `SP_join`/`SP_leave` rule: 1..31 bytes, each in 36..126 (§1, character rules). */
export const checkMemberGroup = (group: string): IllegalGroup | undefined => {
  if (group.length === 0 || group.length >= MAX_GROUP_NAME) {
    return new IllegalGroup({ reason: `group name must be 1..${MAX_GROUP_NAME - 1} bytes, got ${group.length}` })
  }
  for (let i = 0; i < group.length; i++) {
    const c = group.charCodeAt(i)
    if (c < 36 || c > 126) return new IllegalGroup({ reason: `group name ${JSON.stringify(group)} has an illegal byte 0x${c.toString(16)}` })
  }
  return undefined
}

export const encodeJoinChecked = (privateGroup: string, group: string): Buffer | IllegalGroup =>
  checkMemberGroup(group) ?? encodeJoin(privateGroup, group)

export const encodeLeaveChecked = (privateGroup: string, group: string): Buffer | IllegalGroup =>
  checkMemberGroup(group) ?? encodeLeave(privateGroup, group)

/** A destination: any 1..31-byte name, private groups (`#priv#daemon`) included (§8.4). */
const checkDestination = (group: string): IllegalGroup | undefined =>
  group.length === 0 || group.length >= MAX_GROUP_NAME || !isLatin1(group)
    ? new IllegalGroup({ reason: `destination ${JSON.stringify(group)} is not a 1..${MAX_GROUP_NAME - 1} byte name` })
    : undefined

/**
 * `SP_multigroup_multicast` (§5.1): the service check, then the group list (≤ 100: §12 item 8),
 * then the size limit that keeps reference daemons alive (§12 item 1). The message is encoded
 * later, straight into the session's write buffer.
 */
export const checkMulticast = (
  privateGroup: string,
  service: ServiceType,
  groups: string | ReadonlyArray<string>,
  messType: number,
  payload: Uint8Array | string,
  selfDiscard: boolean
): OutgoingMessage | IllegalService | IllegalGroup | MessageTooLong => {
  const type = serviceWord(service, selfDiscard)
  if (typeof type !== "number") return type
  const list = typeof groups === "string" ? [groups] : groups
  if (list.length > MAX_GROUPS_PER_MESSAGE) {
    return new IllegalGroup({ reason: `${list.length} destination groups, at most ${MAX_GROUPS_PER_MESSAGE}` })
  }
  for (let i = 0; i < list.length; i++) {
    const bad = checkDestination(list[i]!)
    if (bad !== undefined) return bad
  }
  const data = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload
  const size = data.length + MAX_GROUP_NAME * list.length
  if (size > SAFE_DATA_PLUS_GROUPS) {
    return new MessageTooLong({ reason: `data + 32·groups = ${size} bytes, at most ${SAFE_DATA_PLUS_GROUPS}` })
  }
  return { type, sender: privateGroup, groups: list, messType, data }
}
