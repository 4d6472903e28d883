/**
 * The process-group layer (daemon-protocol §8): every daemon holds the full membership of every
 * group, applies join / leave / kill in the one total order, and tells its own members about
 * each view change in client wire format (client-protocol §6).
 *
 * This module is pure: the caller feeds it ordered operations and it calls a sink with the bytes
 * for each local session.
 */
import {
  encodeRegularMembership,
  encodeSelfLeave,
  type GroupId,
  type MembershipCause
} from "../Protocol/index.js"
import { type ConfigurationId, membTime, sameConfigurationId } from "./ConfigurationId.js"

/** A session of this daemon as the group layer sees it. */
export interface LocalMember {
  readonly privateGroup: string
  /** Asked for membership messages (connect flags bit 0, client-protocol §8.3). */
  readonly groupMembership: boolean
}

export interface GroupSink {
  /** Queue `bytes` (one whole client message) for a local member. */
  send(member: LocalMember, bytes: Buffer): void
}

/** One daemon's part of a group (§8.3). */
interface DaemonPart {
  readonly daemonId: number
  readonly rank: number
  /** The configuration in which this part was last synchronized with me. */
  membId: ConfigurationId
  /** Private groups, in byte-wise order (client-protocol §6.7). */
  readonly members: Array<string>
}

interface Group {
  readonly name: string
  membId: ConfigurationId
  index: number
  /** In rank order. */
  readonly parts: Array<DaemonPart>
  /** This daemon's members, for routing. */
  readonly local: Map<string, LocalMember>
}

/**
 * Bound on the re-creation map of §8.4 (`MaxRecreatedGroups`): past it, a re-created group starts
 * at `1 + opsUnderMembId`, which is above every index used under the current membId.
 */
export const MAX_RECREATED_GROUPS = 10_000

const insertSorted = (list: Array<string>, name: string): void => {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]! < name) lo = mid + 1
    else hi = mid
  }
  list.splice(lo, 0, name)
}

export class GroupTable {
  private readonly groups = new Map<string, Group>()
  /** Every member (of any daemon) → the groups it is in, so a kill finds them (§8.5 Kill). */
  private readonly memberGroups = new Map<string, Set<string>>()
  /** §8.4 re-creation: group name → last index, for groups deleted under the current membId. */
  private readonly deletedIndex = new Map<string, number>()
  private opsUnderMembId = 0
  private membId: ConfigurationId

  constructor(
    initial: ConfigurationId,
    private readonly rankOf: (daemonId: number) => number,
    private readonly sink: GroupSink
  ) {
    this.membId = initial
  }

  /** `install(REG, R)` at boot, with no transitional configuration before it (§8.6 first row). */
  installRegular(id: ConfigurationId): void {
    if (sameConfigurationId(id, this.membId)) return
    this.membId = id
    this.deletedIndex.clear()
    this.opsUnderMembId = 0
  }

  /** The local members of `group`, for routing data (§8.9). */
  localMembers(group: string): Iterable<LocalMember> | undefined {
    return this.groups.get(group)?.local.values()
  }

  /** §8.5 Join(s, g). `local` is given when s is a session of this daemon. */
  join(member: string, daemonId: number, group: string, local: LocalMember | undefined): void {
    const g = this.groups.get(group) ?? this.create(group)
    let part = g.parts.find((p) => p.daemonId === daemonId)
    if (part === undefined) {
      part = { daemonId, rank: this.rankOf(daemonId), membId: g.membId, members: [] }
      const at = g.parts.findIndex((p) => p.rank > part!.rank || (p.rank === part!.rank && p.daemonId > daemonId))
      g.parts.splice(at < 0 ? g.parts.length : at, 0, part)
    } else if (part.members.includes(member)) {
      return
    }
    insertSorted(part.members, member)
    if (local !== undefined) g.local.set(member, local)
    this.groupsOf(member).add(group)
    this.applied(g)
    this.notify(g, "join", member)
  }

  /** §8.5 Leave(s, g): a self-leave notice to a local leaver, then the view to the others. */
  leave(member: string, daemonId: number, group: string): void {
    const g = this.groups.get(group)
    const removed = g === undefined ? undefined : this.remove(g, member, daemonId)
    if (g === undefined || removed === undefined) return
    this.memberGroups.get(member)?.delete(group)
    if (removed.local?.groupMembership) this.sink.send(removed.local, encodeSelfLeave(g.name))
    this.afterRemoval(g, "leave", member)
  }

  /** §8.5 Kill(s): as a leave from every group, without a self-leave and with CAUSED_BY_DISCONNECT. */
  kill(member: string, daemonId: number): void {
    const groups = this.memberGroups.get(member)
    if (groups === undefined) return
    this.memberGroups.delete(member)
    for (const name of groups) {
      const g = this.groups.get(name)
      if (g !== undefined && this.remove(g, member, daemonId) !== undefined) this.afterRemoval(g, "disconnect", member)
    }
  }

  private groupsOf(member: string): Set<string> {
    let set = this.memberGroups.get(member)
    if (set === undefined) {
      set = new Set()
      this.memberGroups.set(member, set)
    }
    return set
  }

  private create(name: string): Group {
    // §8.4: continue a deleted group's index under the same membId; past the bound, start above
    // every index this membId can have used.
    const start = this.deletedIndex.get(name) ??
      (this.deletedIndex.size >= MAX_RECREATED_GROUPS ? 1 + this.opsUnderMembId : 0)
    this.deletedIndex.delete(name)
    const g: Group = { name, membId: this.membId, index: start, parts: [], local: new Map() }
    this.groups.set(name, g)
    return g
  }

  /** Removes `member`: undefined if it was not in the group, else the local session it was. */
  private remove(g: Group, member: string, daemonId: number): { readonly local: LocalMember | undefined } | undefined {
    const at = g.parts.findIndex((p) => p.daemonId === daemonId)
    const part = g.parts[at]
    const i = part === undefined ? -1 : part.members.indexOf(member)
    if (part === undefined || i < 0) return undefined
    part.members.splice(i, 1)
    if (part.members.length === 0) g.parts.splice(at, 1)
    const local = g.local.get(member)
    g.local.delete(member)
    return { local }
  }

  /** §8.5: index + 1; an emptied group is deleted with no further notice, else the view goes out. */
  private afterRemoval(g: Group, cause: "leave" | "disconnect", member: string): void {
    this.applied(g)
    if (g.parts.length === 0) {
      this.groups.delete(g.name)
      if (this.deletedIndex.size < MAX_RECREATED_GROUPS && sameConfigurationId(g.membId, this.membId)) {
        this.deletedIndex.set(g.name, g.index)
      }
      return
    }
    this.notify(g, cause, member)
  }

  private applied(g: Group): void {
    g.index += 1
    this.opsUnderMembId += 1
  }

  /** A lightweight view (§8.8): one vs_set holding the changed member, same bytes for everyone. */
  private notify(g: Group, cause: MembershipCause, changed: string): void {
    let bytes: Buffer | undefined
    for (const local of g.local.values()) {
      if (!local.groupMembership) continue
      bytes ??= encodeRegularMembership({
        cause,
        group: g.name,
        members: g.parts.flatMap((p) => p.members),
        groupId: this.groupId(g),
        vsSets: [[changed]],
        localVsSetIndex: 0
      })
      this.sink.send(local, bytes)
    }
  }

  private groupId(g: Group): GroupId {
    return { procId: g.membId.rep | 0, time: membTime(g.membId), index: g.index }
  }
}
