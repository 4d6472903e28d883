/**
 * A pure simulation of the group layer at several daemons (daemon-protocol §8): one
 * {@link GroupTable} per daemon, fed the installs and ordered operations a ring would deliver to
 * it, with `GROUPS_STATE` payloads passed between them in one total order. No sockets, no timers.
 */
import type { ConfigurationId } from "../../src/Membership/ConfigurationId.ts"
import { type GroupSink, GroupTable, type LocalMember } from "../../src/Membership/Groups.ts"
import type { GroupsStateDecodeError } from "../../src/Membership/GroupsState.ts"
import { type DaemonMessage, decodeDaemonMessage } from "../../src/Protocol/DaemonMessage.ts"

/** The virtual ids of vector 40 (Spread's hash of "node1", "node2"), and a third daemon. */
export const NODE1 = 0x1d5c9b95
export const NODE2 = 0x0b28760d
export const NODE3 = 0x2e7f0a11

const NAMES = new Map<number, string>([[NODE1, "node1"], [NODE2, "node2"], [NODE3, "node3"]])
const IDS = new Map<string, number>([...NAMES].map(([id, name]) => [name, id]))
/** spread.conf order: node1, node2, node3. */
const RANKS = new Map<number, number>([[NODE1, 0], [NODE2, 1], [NODE3, 2]])

export const reg = (seq: number, rep: number): ConfigurationId => ({ kind: "REG", seq, rep })
export const trans = (seq: number, rep: number): ConfigurationId => ({ kind: "TRANS", seq, rep })

/** The gid words clients see for a configuration id and an index. */
export const gidOf = (id: ConfigurationId, index: number) => ({ procId: id.rep | 0, time: id.seq | 0, index })

const daemonOf = (privateGroup: string): number => {
  const name = privateGroup.split("#")[2] ?? ""
  const id = IDS.get(name)
  if (id === undefined) throw new Error(`unknown daemon in ${privateGroup}`)
  return id
}

export class SimDaemon implements GroupSink {
  readonly table: GroupTable
  readonly name: string
  /** Bytes each local private group received, in order. */
  readonly inbox = new Map<string, Array<Buffer>>()
  /** `GROUPS_STATE` payloads submitted and not yet delivered by {@link exchange}. */
  readonly pending: Array<Buffer> = []
  readonly events: Array<"pause" | "resume" | "submit"> = []
  readonly rejected: Array<GroupsStateDecodeError> = []
  private readonly sessions = new Map<string, LocalMember>()

  constructor(readonly id: number, options?: { readonly maxRecreatedGroups?: number }) {
    this.name = NAMES.get(id)!
    this.table = new GroupTable({ myDaemonId: id, rankOf: (d) => RANKS.get(d), ...options }, this)
  }

  /** A local session that asked for membership messages (or not). */
  connect(privateName: string, groupMembership = true): string {
    const privateGroup = `#${privateName}#${this.name}`
    this.sessions.set(privateGroup, { privateGroup, groupMembership })
    this.inbox.set(privateGroup, [])
    return privateGroup
  }

  local(privateGroup: string): LocalMember | undefined {
    return this.sessions.get(privateGroup)
  }

  /** Everything `privateGroup` received since the last call, decoded as its client would. */
  take(privateGroup: string): Array<DaemonMessage> {
    const list = this.inbox.get(privateGroup) ?? []
    this.inbox.set(privateGroup, [])
    return list.map((b) => decodeDaemonMessage(b, privateGroup))
  }

  takeBytes(privateGroup: string): Array<Buffer> {
    const list = this.inbox.get(privateGroup) ?? []
    this.inbox.set(privateGroup, [])
    return list
  }

  // GroupSink
  send(member: LocalMember, bytes: Buffer): void {
    this.inbox.get(member.privateGroup)!.push(bytes)
  }
  submitGroupsState(payload: Buffer): void {
    this.events.push("submit")
    this.pending.push(payload)
  }
  pauseClients(): void {
    this.events.push("pause")
  }
  resumeClients(): void {
    this.events.push("resume")
  }
  groupsStateRejected(_from: number, error: GroupsStateDecodeError): void {
    this.rejected.push(error)
  }
}

/** An ordered operation delivered at every daemon of `at`, in the same place of the total order. */
export const join = (at: ReadonlyArray<SimDaemon>, member: string, group: string): void => {
  for (const d of at) d.table.join(member, daemonOf(member), group, d.local(member))
}
export const leave = (at: ReadonlyArray<SimDaemon>, member: string, group: string): void => {
  for (const d of at) d.table.leave(member, daemonOf(member), group)
}
export const kill = (at: ReadonlyArray<SimDaemon>, member: string): void => {
  for (const d of at) d.table.kill(member, daemonOf(member))
}

export const installTrans = (at: ReadonlyArray<SimDaemon>, id: ConfigurationId, members: ReadonlyArray<number>): void => {
  for (const d of at) d.table.installTransitional(id, members)
}
export const installReg = (at: ReadonlyArray<SimDaemon>, id: ConfigurationId, members: ReadonlyArray<number>): void => {
  for (const d of at) d.table.installRegular(id, members)
}

/**
 * The ring delivers the pending `GROUPS_STATE` messages of `senders` (in that order, which is the
 * total order) to every daemon of `to`.
 */
export const exchange = (senders: ReadonlyArray<SimDaemon>, to: ReadonlyArray<SimDaemon>): void => {
  const messages = senders.flatMap((s) => s.pending.splice(0).map((payload) => ({ from: s.id, payload })))
  for (const m of messages) for (const d of to) d.table.groupsStateDelivered(m.from, m.payload)
}

/** Delivers one sender's pending states only (to build cascades). */
export const deliverFrom = (sender: SimDaemon, to: ReadonlyArray<SimDaemon>): void => exchange([sender], to)
