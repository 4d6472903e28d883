/**
 * The group table's records and the orders the views use (daemon-protocol §8.3, §8.8;
 * client-protocol §6.3, §6.7). Shared by the state machine (Groups.ts) and the merge
 * (GroupsMerge.ts).
 */
import type { GroupId } from "../Protocol/index.js"
import { type ConfigurationId, membTime } from "./ConfigurationId.js"
import { type MembId, UNKNOWN } from "./GroupsState.js"

/** A session of this daemon as the group layer sees it. */
export interface LocalMember {
  readonly privateGroup: string
  /** Asked for membership messages (connect flags bit 0, client-protocol §8.3). */
  readonly groupMembership: boolean
}

/** One daemon's part of a group (§8.3). */
export interface DaemonPart {
  readonly daemonId: number
  /** The configuration in which this part was last synchronized with me, or UNKNOWN. */
  membId: MembId
  /** Private groups, in byte-wise order (client-protocol §6.7). */
  readonly members: Array<string>
}

export interface GroupRecord {
  readonly name: string
  /** The client-visible gid (§8.4); `(procId, time)` is the projection of a configuration id. */
  gid: { procId: number; time: number; index: number }
  changed: boolean
  /** In placement order: rank, unconfigured daemons after by id (§8.7). */
  readonly parts: Array<DaemonPart>
  /** This daemon's members, for routing and notices. */
  readonly local: Map<string, LocalMember>
}

/**
 * Rank of a configured daemon, undefined for one no longer configured (§2.1; such daemons sort
 * after all configured ones, by id: client-protocol §6.7).
 */
export type RankOf = (daemonId: number) => number | undefined

export const comparePlacement = (rankOf: RankOf, a: number, b: number): number => {
  const ra = rankOf(a)
  const rb = rankOf(b)
  if (ra !== undefined && rb !== undefined) return ra - rb || (a >>> 0) - (b >>> 0)
  if (ra !== undefined) return -1
  if (rb !== undefined) return 1
  return (a >>> 0) - (b >>> 0)
}

/** Inserts `part` keeping placement order. */
export const insertPart = (rankOf: RankOf, parts: Array<DaemonPart>, part: DaemonPart): void => {
  const at = parts.findIndex((p) => comparePlacement(rankOf, p.daemonId, part.daemonId) > 0)
  parts.splice(at < 0 ? parts.length : at, 0, part)
}

export const insertSorted = (list: Array<string>, name: string): void => {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (list[mid]! < name) lo = mid + 1
    else hi = mid
  }
  list.splice(lo, 0, name)
}

/** Byte-wise order of latin1 names (JS string order is code-unit order, which is byte order here). */
export const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The `(proc_id, time)` clients see for a configuration id (§2.3). */
export const projectId = (id: ConfigurationId): { readonly procId: number; readonly time: number } => ({
  procId: id.rep | 0,
  time: membTime(id)
})

/**
 * Decision (§8.4, §8.7): membIds are compared by their client-visible projection `(rep, seq mod
 * 2^32)`, because a gid carries only that much on the wire (as in Spread, whose memb_id is just
 * that pair). Distinct configuration ids never share a projection in practice: seqs would have to
 * differ by a multiple of 2^32.
 */
export const sameMembId = (a: MembId, b: MembId): boolean => {
  if (a === UNKNOWN || b === UNKNOWN) return false
  return (a.rep | 0) === (b.rep | 0) && membTime(a) === membTime(b)
}

export const membIdMatchesGid = (m: MembId, gid: { readonly procId: number; readonly time: number }): boolean =>
  m !== UNKNOWN && (m.rep | 0) === gid.procId && membTime(m) === gid.time

/**
 * vs_set order (§8.8, client-protocol §6.3): by membId, proc id then time, UNKNOWN last.
 * Decision: both words compare as signed int32, as Spread's `G_compare_memb_ids` does.
 */
export const compareMembId = (a: MembId, b: MembId): number => {
  if (a === UNKNOWN) return b === UNKNOWN ? 0 : 1
  if (b === UNKNOWN) return -1
  return (a.rep | 0) - (b.rep | 0) || membTime(a) - membTime(b)
}

export const groupIdOf = (g: GroupRecord): GroupId => ({ procId: g.gid.procId, time: g.gid.time, index: g.gid.index })

export interface VsSets {
  readonly vsSets: ReadonlyArray<ReadonlyArray<string>>
  /** The set of the receiving daemon's members. */
  readonly localIndex: number
  /** The joiner's own set (the last), when a joiner was given. */
  readonly joinerIndex: number
}

/**
 * The vs_sets of a heavyweight view (§8.8): one set per distinct known membId in membId order,
 * each UNKNOWN daemon alone after them, a GTRANS joiner alone in a final set; inside a set,
 * placement (rank) order then name. Decision: a set left empty because the joiner was its
 * only member is omitted (Spread would send a 0-member set; G4 wants the sets to partition the
 * members).
 */
export const vsSetsOf = (g: GroupRecord, myDaemonId: number, rankOf: RankOf, joiner: string | undefined): VsSets => {
  const ordered = [...g.parts].sort((a, b) =>
    compareMembId(a.membId, b.membId) || comparePlacement(rankOf, a.daemonId, b.daemonId)
  )
  const sets: Array<Array<string>> = []
  let localIndex = -1
  let prev: MembId | undefined
  for (const part of ordered) {
    if (prev === undefined || !sameMembId(prev, part.membId)) sets.push([])
    prev = part.membId
    const set = sets[sets.length - 1]!
    for (const m of part.members) if (m !== joiner) set.push(m)
    if (part.daemonId === myDaemonId) localIndex = sets.length - 1
  }
  const kept: Array<Array<string>> = []
  let keptLocal = 0
  sets.forEach((set, i) => {
    if (i === localIndex) keptLocal = set.length > 0 ? kept.length : 0
    if (set.length > 0) kept.push(set)
  })
  if (joiner !== undefined) kept.push([joiner])
  return { vsSets: kept, localIndex: keptLocal, joinerIndex: kept.length - 1 }
}

export const memberList = (g: GroupRecord): Array<string> => g.parts.flatMap((p) => p.members)
