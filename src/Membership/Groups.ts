/**
 * The process-group layer (daemon-protocol §8): every daemon holds the full membership of every
 * group, applies join / leave / kill in the one total order, runs the GROUPS algorithm after a
 * daemon configuration change (§8.6) and tells its own members about each view change in client
 * wire format (client-protocol §6).
 *
 * This module is pure: the caller feeds it installs, ordered operations and delivered
 * `GROUPS_STATE` payloads, in the EVS order of §7, and it reports every effect through a
 * {@link GroupSink}.
 *
 * ```ts
 * const groups = new GroupTable({ myDaemonId, rankOf }, sink)
 * groups.installRegular(ringId, [myDaemonId])        // boot (§6.11)
 * groups.join("#alice#node1", myDaemonId, "chat", aliceSession)
 * groups.installTransitional(transId, transMembers)  // ring engine Install TRANS
 * groups.installRegular(newRingId, newMembers)       // ring engine Install REG
 * groups.groupsStateDelivered(originatorId, payload) // a delivered GROUPS_STATE envelope
 * ```
 */
import { encodeRegularMembership, encodeSelfLeave, encodeTransition, type MembershipCause } from "../Protocol/index.js"
import { type ConfigurationId, membTime, sameConfigurationId } from "./ConfigurationId.js"
import {
  comparePlacement,
  type DaemonPart,
  type GroupRecord,
  groupIdOf,
  insertPart,
  insertSorted,
  type LocalMember,
  memberList,
  membIdMatchesGid,
  type RankOf,
  vsSetsOf
} from "./GroupModel.js"
import { mergeGroupsState, snapshotGroups } from "./GroupsMerge.js"
import {
  decodeGroupsState,
  encodeGroupsState,
  type GroupState,
  type GroupsState,
  type GroupsStateDecodeError,
  UNKNOWN
} from "./GroupsState.js"

export type { LocalMember } from "./GroupModel.js"

export interface GroupSink {
  /** Queue `bytes` (one whole client message) for a local member. */
  send(member: LocalMember, bytes: Buffer): void
  /**
   * §8.6: multicast `payload` as one `GROUPS_STATE` message (class ORDERED, on the groups send
   * path, not behind queued client messages) in the regular configuration just installed.
   */
  submitGroupsState(payload: Buffer): void
  /**
   * §8.6 GTRANS → GGATHER: pause client reads, switch the send path to the groups queue (client
   * messages wait), `SetDeliveryGate ORDERED_ONLY` (the ring's gate already is after a REG).
   */
  pauseClients(): void
  /** §8.6: the groups algorithm is done: resume client reads, restore the send path, gate OPEN. */
  resumeClients(): void
  /** A delivered `GROUPS_STATE` was malformed; it is ignored (typed error, for a trace/log). */
  groupsStateRejected(fromDaemon: number, error: GroupsStateDecodeError): void
}

/** A daemon configuration as the ring installs it: its id and member ids in rank order. */
export interface Configuration {
  readonly id: ConfigurationId
  readonly members: ReadonlyArray<number>
}

export type GState = "GOP" | "GTRANS" | "GGATHER" | "GGT"

export interface GroupTableInit {
  readonly myDaemonId: number
  readonly rankOf: RankOf
  /** §8.4 `MaxRecreatedGroups`. */
  readonly maxRecreatedGroups?: number
}

/**
 * Bound on the re-creation map of §8.4 (`MaxRecreatedGroups`): past it, a re-created group starts
 * at `1 + opsUnderMembId`, which is above every index used under the current membId.
 */
export const MAX_RECREATED_GROUPS = 10_000

/** One synced set's delivered state, kept until the exchange completes (§8.6 GGATHER). */
interface Gathered {
  readonly from: number
  readonly state: GroupsState
}

export class GroupTable {
  private readonly groups = new Map<string, GroupRecord>()
  /** Every member (of any daemon) → the groups it is in, so a kill finds them (§8.5 Kill). */
  private readonly memberGroups = new Map<string, Set<string>>()
  /** §8.4 re-creation: group name → last index, for groups deleted under the current membId. */
  private readonly deletedIndex = new Map<string, number>()
  /**
   * §8.4 bound, decision: once a deletion went unrecorded because the map was full, every name not
   * in the map starts at `1 + opsUnderMembId` until the membId changes, even after the map has
   * room again. (Read literally, "while the map is full" would let an unrecorded group restart
   * at 0 once a slot frees, repeating its gid.)
   */
  private recreationOverflow = false
  private opsUnderMembId = 0
  /** The id new gids are stamped with (§8.4 "current membId"). */
  private membId: ConfigurationId | undefined
  private gstateValue: GState = "GOP"
  /** The last `install(TRANS)` and `install(REG)` (§8.3). In GGT `trans` is the cascade's T₂. */
  private trans: Configuration | undefined
  private reg: Configuration | undefined
  /** §8.3: rank order; its first member leads it. */
  private synced: Array<number>
  private gathered: Array<Gathered> = []
  private readonly myDaemonId: number
  private readonly rankOf: RankOf
  private readonly maxRecreated: number

  constructor(init: GroupTableInit, private readonly sink: GroupSink) {
    this.myDaemonId = init.myDaemonId
    this.rankOf = init.rankOf
    this.maxRecreated = init.maxRecreatedGroups ?? MAX_RECREATED_GROUPS
    this.synced = [init.myDaemonId]
  }

  get gstate(): GState {
    return this.gstateValue
  }

  /** How many groups exist (all daemons' members). */
  get groupCount(): number {
    return this.groups.size
  }

  /** My synced set (§8.3), in rank order. */
  get syncedSet(): ReadonlyArray<number> {
    return this.synced
  }

  /** The local members of `group`, for routing data (§8.9). */
  localMembers(group: string): Iterable<LocalMember> | undefined {
    return this.groups.get(group)?.local.values()
  }

  /** The whole table in `GROUPS_STATE` form, name order (for tests, traces and the monitor). */
  snapshot(): ReadonlyArray<GroupState> {
    return snapshotGroups(this.groups.values())
  }

  // -------------------------------------------------------------------------------------------
  // Configuration changes (§8.6)

  /** `install(TRANS, T)`. */
  installTransitional(id: ConfigurationId, members: ReadonlyArray<number>): void {
    const t: Configuration = { id, members: [...members] }
    switch (this.gstateValue) {
      case "GOP":
        return this.transitionalInGop(t)
      case "GGATHER":
        return this.cascade(t)
      default:
        // The ring installs TRANS then REG in one step (Ring/index.ts, §6.8), so a second TRANS
        // before a REG is a caller bug.
        throw new Error(`GroupTable: install(TRANS) in ${this.gstateValue}`)
    }
  }

  /** `install(REG, R)`. */
  installRegular(id: ConfigurationId, members: ReadonlyArray<number>): void {
    const r: Configuration = { id, members: [...members] }
    switch (this.gstateValue) {
      case "GOP":
        // Boot (§6.11): a regular configuration with no transitional before it.
        this.reg = r
        this.setMembId(id)
        this.synced = this.synced.filter((d) => r.members.includes(d))
        if (!this.synced.includes(this.myDaemonId)) this.synced = [this.myDaemonId]
        this.sink.resumeClients()
        return
      case "GTRANS":
        return this.regularInGtrans(r)
      case "GGT":
        return this.regularInGgt(r)
      case "GGATHER":
        throw new Error("GroupTable: install(REG) in GGATHER without install(TRANS)")
    }
  }

  /**
   * A delivered `GROUPS_STATE` message (§8.6 GGATHER / GGT rows). `fromDaemon` is its originator
   * (the leader of the synced set it describes).
   */
  groupsStateDelivered(fromDaemon: number, payload: Buffer): void {
    const decoded = decodeGroupsState(payload)
    if (!decoded.ok) {
      this.sink.groupsStateRejected(fromDaemon, decoded.error)
      return
    }
    const state = decoded.state
    // Decision: outside GGATHER/GGT no exchange is running; a late or stray state is ignored.
    if (this.gstateValue !== "GGATHER" && this.gstateValue !== "GGT") return
    const reg = this.reg
    if (reg === undefined || !sameConfigurationId(state.configId, reg.id)) return
    // Decision: one state per sender per exchange; a repeat is ignored.
    if (this.gathered.some((g) => g.from === fromDaemon)) return
    this.gathered.push({ from: fromDaemon, state })
    // Count the daemons of R′ the synced sets received so far cover (§8.6: "reaches #R′").
    const covered = new Set<number>()
    for (const g of this.gathered) for (const d of g.state.syncedSet) if (reg.members.includes(d)) covered.add(d)
    if (covered.size < reg.members.length) return
    this.completeExchange(reg)
  }

  private transitionalInGop(t: Configuration): void {
    this.trans = t
    this.setMembId(t.id)
    for (const g of this.groups.values()) {
      if (g.parts.every((p) => t.members.includes(p.daemonId))) continue
      for (const p of g.parts) if (!t.members.includes(p.daemonId)) p.membId = UNKNOWN
      this.transition(g)
      this.stamp(g, t.id)
      g.changed = true
      for (const p of g.parts) if (p.membId !== UNKNOWN) p.membId = t.id
    }
    this.synced = this.synced.filter((d) => t.members.includes(d))
    this.gstateValue = "GTRANS"
  }

  private regularInGtrans(r: Configuration): void {
    const t = this.trans!
    this.reg = r
    if (t.members.length === r.members.length) {
      // Only departures: no exchange.
      this.setMembId(r.id)
      for (const g of [...this.groups.values()]) {
        if (!g.changed) continue
        if (this.removeParts(g, (p) => p.membId === UNKNOWN)) continue
        this.networkView(g, r.id)
      }
      this.gstateValue = "GOP"
      this.sink.resumeClients()
      return
    }
    for (const g of [...this.groups.values()]) if (g.changed) this.removeParts(g, (p) => p.membId === UNKNOWN)
    this.sink.pauseClients()
    this.gathered = []
    this.gstateValue = "GGATHER"
    this.sendStateIfLeader(r)
  }

  /** GGATHER + `install(TRANS, T₂)`: remember it; nothing is removed until the next REG. */
  private cascade(t2: Configuration): void {
    this.trans = t2
    this.setMembId(t2.id)
    for (const g of this.groups.values()) {
      if (g.parts.some((p) => !t2.members.includes(p.daemonId))) g.changed = true
    }
    this.gstateValue = "GGT"
  }

  /** GGT + `install(REG, R″)`: keep what completed of the old exchange, start a new one. */
  private regularInGgt(r: Configuration): void {
    const t2 = this.trans!
    const mine = this.gathered.find((g) => g.state.syncedSet.includes(this.myDaemonId))
    // §8.6: only if my own synced set's state was received; one message per synced set, so a
    // received state is a complete one.
    if (mine !== undefined) this.mergeGathered()
    this.gathered = []
    for (const g of [...this.groups.values()]) {
      if (g.parts.every((p) => t2.members.includes(p.daemonId))) continue
      if (!this.removeParts(g, (p) => !t2.members.includes(p.daemonId))) g.changed = true
    }
    this.synced = this.synced.filter((d) => t2.members.includes(d))
    this.reg = r
    this.gstateValue = "GGATHER"
    this.sendStateIfLeader(r)
  }

  private sendStateIfLeader(r: Configuration): void {
    if (this.synced[0] !== this.myDaemonId) return
    this.sink.submitGroupsState(encodeGroupsState({
      configId: r.id,
      syncedSet: this.synced,
      groups: snapshotGroups(this.groups.values())
    }))
  }

  /** Merges every other synced set's gathered state and adopts those sets (§8.6, §8.7). */
  private mergeGathered(): void {
    for (const { state } of this.gathered) {
      if (state.syncedSet.includes(this.myDaemonId)) continue // my own state is my table
      mergeGroupsState({
        myDaemonId: this.myDaemonId,
        rankOf: this.rankOf,
        group: (name) => this.groups.get(name),
        createGroup: (name, gid) => {
          const g: GroupRecord = { name, gid, changed: false, parts: [], local: new Map() }
          this.groups.set(name, g)
          return g
        },
        memberAdded: (member, group) => this.groupsOf(member).add(group)
      }, state)
      for (const d of state.syncedSet) if (!this.synced.includes(d)) this.synced.push(d)
    }
    const reg = this.reg
    this.synced = this.synced
      .filter((d) => reg === undefined || reg.members.includes(d))
      .sort((a, b) => comparePlacement(this.rankOf, a, b))
  }

  private completeExchange(reg: Configuration): void {
    this.mergeGathered()
    this.gathered = []
    this.setMembId(reg.id)
    for (const g of this.groups.values()) if (g.changed) this.networkView(g, reg.id)
    if (this.gstateValue === "GGT") {
      // §8.6 GGT row: back to GOP, then the saved transitional at once. Decision: the client
      // reads stay paused and the gate is not opened here; the REG that follows T₂ decides
      // (resume at once on departures only, else after the next exchange), so the ring never
      // gets an OPEN between its TRANS and REG installs.
      this.gstateValue = "GOP"
      this.transitionalInGop(this.trans!)
      return
    }
    this.gstateValue = "GOP"
    this.sink.resumeClients()
  }

  /** A changed group's new regular view: `gid := (R id, 1)`, CAUSED_BY_NETWORK, membIds := R. */
  private networkView(g: GroupRecord, r: ConfigurationId): void {
    this.stamp(g, r)
    g.changed = false
    // The vs_sets group the parts by the membIds they had before this view (§8.8).
    this.heavyweight(g, undefined)
    for (const p of g.parts) p.membId = r
  }

  // -------------------------------------------------------------------------------------------
  // Ordered operations (§8.5)

  /**
   * §8.5 Join(s, g). `local` is given when s is a session of this daemon.
   *
   * Decision (§8.5 says ops cannot occur in GGATHER/GGT): should one be delivered there anyway,
   * it is applied as in GTRANS, against the last transitional configuration; every daemon of the
   * configuration delivers it at the same place, so the tables stay identical.
   */
  join(member: string, daemonId: number, group: string, local: LocalMember | undefined): void {
    const g = this.groups.get(group) ?? this.create(group)
    let part = g.parts.find((p) => p.daemonId === daemonId)
    if (part === undefined) {
      const known = this.gstateValue === "GOP" || (this.trans?.members.includes(daemonId) ?? false)
      part = { daemonId, membId: known ? this.gidMembId(g) : UNKNOWN, members: [] }
      insertPart(this.rankOf, g.parts, part)
    } else if (part.members.includes(member)) {
      return
    }
    insertSorted(part.members, member)
    if (local !== undefined) g.local.set(member, local)
    this.groupsOf(member).add(group)
    this.applied(g)
    if (part.membId === UNKNOWN) g.changed = true
    if (g.changed) {
      this.heavyweight(g, member)
      this.transition(g)
    } else {
      this.lightweight(g, "join", member)
    }
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

  // -------------------------------------------------------------------------------------------
  // Table helpers

  private groupsOf(member: string): Set<string> {
    let set = this.memberGroups.get(member)
    if (set === undefined) {
      set = new Set()
      this.memberGroups.set(member, set)
    }
    return set
  }

  /** §8.4: the current membId changed: the re-creation map and the op counter restart. */
  private setMembId(id: ConfigurationId): void {
    if (this.membId !== undefined && sameConfigurationId(id, this.membId)) return
    this.membId = id
    this.deletedIndex.clear()
    this.recreationOverflow = false
    this.opsUnderMembId = 0
  }

  private currentMembId(): ConfigurationId {
    if (this.membId === undefined) throw new Error("GroupTable: an operation before the first install(REG)")
    return this.membId
  }

  /**
   * The full configuration id behind a group's gid (§8.5 Join: a new part gets `g.gid.membId`).
   * The installs I know are tried first; a gid learned in a merge may name a configuration I never
   * installed, rebuilt from its projection (the parity of `time` is the parity of seq, §2.3).
   */
  private gidMembId(g: GroupRecord): ConfigurationId {
    for (const c of [this.membId, this.trans?.id, this.reg?.id]) {
      if (c !== undefined && membIdMatchesGid(c, g.gid)) return c
    }
    const seq = g.gid.time >>> 0
    return { kind: seq % 2 === 0 ? "REG" : "TRANS", seq, rep: g.gid.procId >>> 0 }
  }

  private stamp(g: GroupRecord, id: ConfigurationId): void {
    g.gid = { procId: id.rep | 0, time: membTime(id), index: 1 }
  }

  private create(name: string): GroupRecord {
    const membId = this.currentMembId()
    // §8.4: continue a deleted group's index under the same membId; past the bound, start above
    // every index this membId can have used.
    const start = this.deletedIndex.get(name) ??
      (this.recreationOverflow ? 1 + this.opsUnderMembId : 0)
    this.deletedIndex.delete(name)
    const g: GroupRecord = {
      name,
      gid: { procId: membId.rep | 0, time: membTime(membId), index: start },
      changed: false,
      parts: [],
      local: new Map()
    }
    this.groups.set(name, g)
    return g
  }

  /** Removes `member`: undefined if it was not in the group, else the local session it was. */
  private remove(g: GroupRecord, member: string, daemonId: number): { readonly local: LocalMember | undefined } | undefined {
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

  /**
   * Removes the parts matching `drop` (network removal, §8.6); deletes the group if that empties
   * it. Returns whether the group was deleted.
   */
  private removeParts(g: GroupRecord, drop: (p: DaemonPart) => boolean): boolean {
    for (let i = g.parts.length - 1; i >= 0; i--) {
      const p = g.parts[i]!
      if (!drop(p)) continue
      g.parts.splice(i, 1)
      for (const m of p.members) {
        this.memberGroups.get(m)?.delete(g.name)
        g.local.delete(m)
      }
    }
    if (g.parts.length > 0) return false
    this.deleteGroup(g)
    return true
  }

  private deleteGroup(g: GroupRecord): void {
    this.groups.delete(g.name)
    if (this.membId === undefined || !membIdMatchesGid(this.membId, g.gid)) return
    if (this.deletedIndex.size < this.maxRecreated) this.deletedIndex.set(g.name, g.gid.index)
    else this.recreationOverflow = true
  }

  /** §8.5: index + 1; an emptied group is deleted with no further notice, else the view goes out. */
  private afterRemoval(g: GroupRecord, cause: "leave" | "disconnect", member: string): void {
    this.applied(g)
    if (g.parts.length === 0) return this.deleteGroup(g)
    if (g.changed) {
      this.heavyweight(g, undefined)
      this.transition(g)
    } else {
      this.lightweight(g, cause, member)
    }
  }

  /**
   * §8.5: index + 1, under the current membId. Decision (spec finding, §8.4 as written repeats
   * gids): a group whose gid still carries an older membId is first re-stamped `(current, 0)`,
   * its synchronized parts with it. Otherwise one join delivered in R at one daemon and in T at
   * another, or the two sides of a partition that both kept a group untouched by the change,
   * number different views alike under the old id (evs-properties G1; found by the group
   * simulator). Every daemon that applies the operation in the same configuration re-stamps alike.
   */
  private applied(g: GroupRecord): void {
    const current = this.currentMembId()
    if (!membIdMatchesGid(current, g.gid)) {
      g.gid = { procId: current.rep | 0, time: membTime(current), index: 0 }
      for (const p of g.parts) if (p.membId !== UNKNOWN) p.membId = current
    }
    g.gid.index += 1
    this.opsUnderMembId += 1
  }

  // -------------------------------------------------------------------------------------------
  // Notices to local members (§8.8)

  private *subscribers(g: GroupRecord): Generator<LocalMember> {
    for (const local of g.local.values()) if (local.groupMembership) yield local
  }

  /** A lightweight view: one vs_set holding the changed member, same bytes for everyone. */
  private lightweight(g: GroupRecord, cause: MembershipCause, changed: string): void {
    let bytes: Buffer | undefined
    for (const local of this.subscribers(g)) {
      bytes ??= encodeRegularMembership({
        cause,
        group: g.name,
        members: memberList(g),
        groupId: groupIdOf(g),
        vsSets: [[changed]],
        localVsSetIndex: 0
      })
      this.sink.send(local, bytes)
    }
  }

  /**
   * A heavyweight CAUSED_BY_NETWORK view (§8.8). With a `joiner` (a join into a changed group),
   * the joiner is alone in the last vs_set and a local joiner's copy points at it.
   */
  private heavyweight(g: GroupRecord, joiner: string | undefined): void {
    let shared: Buffer | undefined
    let own: Buffer | undefined
    for (const local of this.subscribers(g)) {
      const isJoiner = local.privateGroup === joiner
      let bytes = isJoiner ? own : shared
      if (bytes === undefined) {
        const sets = vsSetsOf(g, this.myDaemonId, this.rankOf, joiner)
        bytes = encodeRegularMembership({
          cause: "network",
          group: g.name,
          members: memberList(g),
          groupId: groupIdOf(g),
          vsSets: sets.vsSets,
          localVsSetIndex: isJoiner ? sets.joinerIndex : sets.localIndex
        })
        if (isJoiner) own = bytes
        else shared = bytes
      }
      this.sink.send(local, bytes)
    }
  }

  /** `TRANSITION_MESS` with the group's current gid (the one before the coming change, §8.8). */
  private transition(g: GroupRecord): void {
    let bytes: Buffer | undefined
    for (const local of this.subscribers(g)) {
      bytes ??= encodeTransition(g.name, groupIdOf(g))
      this.sink.send(local, bytes)
    }
  }
}

