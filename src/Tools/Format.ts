/**
 * How `spuser` and `sptuser` show what the daemon delivers: the same facts Spread's user program
 * prints for each kind of message (client-protocol §7.2), worded our way. Pure: message in, text
 * out (lines joined with "\n", no trailing newline).
 */
import type { GroupId, SpreadMessage } from "../Client/index.js"
import { AGREED_MESS, CAUSAL_MESS, FIFO_MESS, RELIABLE_MESS, SAFE_MESS, UNRELIABLE_MESS } from "../Client/index.js"

/** The service names of the six service bits (client-protocol §4.3), lowest bit first. */
const SERVICE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [UNRELIABLE_MESS, "UNRELIABLE"],
  [RELIABLE_MESS, "RELIABLE"],
  [FIFO_MESS, "FIFO"],
  [CAUSAL_MESS, "CAUSAL"],
  [AGREED_MESS, "AGREED"],
  [SAFE_MESS, "SAFE"]
]

/**
 * The name of the service bit in `serviceType` (`"SAFE"` for `0x20`), or `"UNKNOWN"`.
 *
 * @example
 * ```ts
 * serviceName(0x10) // "AGREED"
 * ```
 */
export const serviceName = (serviceType: number): string =>
  SERVICE_NAMES.find(([bit]) => (serviceType & bit) !== 0)?.[1] ?? "UNKNOWN"

/** `procId time index`, the three words of a group id as Spread's tools print them. */
export const formatGroupId = (gid: GroupId): string => `${gid.procId} ${gid.time} ${gid.index}`

const printable = (c: number): boolean => c === 0x0a || c === 0x09 || (c >= 0x20 && c !== 0x7f)

/**
 * A payload as text: UTF-8, one trailing newline dropped (the C `spuser` sends lines with their
 * newline), control characters other than newline and tab shown as `.` so a binary payload (a
 * flooder's stamps) cannot drive the terminal.
 */
export const payloadText = (data: Uint8Array): string => {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8")
  const trimmed = text.endsWith("\n") ? text.slice(0, -1) : text
  let out = ""
  for (const ch of trimmed) out += printable(ch.codePointAt(0) ?? 0) ? ch : "."
  return out
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`

const groupList = (groups: ReadonlyArray<string>): string => groups.join(", ")

/**
 * Everything one received message says, as `spuser` prints it.
 *
 * @example
 * ```ts
 * describeMessage({ _tag: "SelfLeave", serviceType: 0x200, group: "chat" })
 * // "received membership message that left group chat"
 * ```
 */
export const describeMessage = (m: SpreadMessage): string => {
  switch (m._tag) {
    case "Data":
      return [
        `received ${serviceName(m.serviceType)} message from ${m.sender}, of type ${m.messType}, ` +
        `(endian ${m.endianMismatch ? 1 : 0}) to ${m.groups.length} groups (${groupList(m.groups)})`,
        `(${m.data.length} bytes): ${payloadText(m.data)}`
      ].join("\n")
    case "Reject":
      return [
        `REJECTED message from ${m.sender}, of service type ${hex(m.serviceType)}, of type ${m.messType}, ` +
        `(endian ${m.endianMismatch ? 1 : 0}) to ${m.groups.length} groups (${groupList(m.groups)})`,
        `(${m.data.length} bytes): ${payloadText(m.data)}`
      ].join("\n")
    case "Membership": {
      const lines = [
        `Received REGULAR membership for group ${m.group} with ${m.members.length} members, where I am member ${m.myIndex}:`,
        ...m.members.map((member) => `\t${member}`),
        `grp id is ${formatGroupId(m.groupId)}`
      ]
      if (m.cause === "network") {
        lines.push(`Due to NETWORK change with ${m.vsSets.length} VS sets`)
        m.vsSets.forEach((set, i) => {
          lines.push(`${i === m.localVsSetIndex ? "LOCAL" : "OTHER"} VS set ${i} has ${set.length} members:`)
          for (const member of set) lines.push(`\t${member}`)
        })
      } else {
        lines.push(`Due to the ${m.cause.toUpperCase()} of ${m.changedMember ?? "(unknown member)"}`)
      }
      return lines.join("\n")
    }
    case "Transition":
      return `received TRANSITIONAL membership for group ${m.group}`
    case "SelfLeave":
      return `received membership message that left group ${m.group}`
  }
}
