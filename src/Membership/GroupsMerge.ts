/**
 * Merging a delivered `GROUPS_STATE` into my group table (daemon-protocol §8.7, cf. Spread
 * groups.c `G_mess_to_groups`), and the snapshot my synced set sends.
 */
import { type DaemonPart, type GroupRecord, insertPart, membIdMatchesGid, type RankOf } from "./GroupModel.js"
import type { GroupState, GroupsState } from "./GroupsState.js"

export interface MergeTarget {
  readonly myDaemonId: number
  readonly rankOf: RankOf
  group(name: string): GroupRecord | undefined
  /** Creates an empty group carrying the sender's gid. */
  createGroup(name: string, gid: GroupRecord["gid"]): GroupRecord
  /** Keeps the member → groups index in step (a later Kill must find remote members too). */
  memberAdded(member: string, group: string): void
}

/**
 * §8.7 merge of another synced set's state. For each group: create it if unknown with the
 * sender's gid; `changed |= sender's changed`; add each daemon part with its membId and members;
 * a part whose membId is not the group's gid membId marks the group changed.
 *
 * Decisions (the spec assumes synced sets' parts are disjoint, which holds for well-formed
 * input): a part for a daemon the group already has, or for my own daemon (whose members only I
 * know, §8.1), is ignored, first come first kept; a part with no members, or a group with no
 * parts, is ignored (empty parts and groups do not exist, §8.5).
 */
export const mergeGroupsState = (target: MergeTarget, state: GroupsState): void => {
  for (const gs of state.groups) {
    const parts = gs.daemons.filter((d) => d.members.length > 0 && d.daemonId !== target.myDaemonId)
    if (parts.length === 0) continue
    const g = target.group(gs.name) ?? target.createGroup(gs.name, { ...gs.gid })
    if (gs.changed) g.changed = true
    for (const d of parts) {
      if (g.parts.some((p) => p.daemonId === d.daemonId)) continue
      const members = [...new Set(d.members)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      const part: DaemonPart = { daemonId: d.daemonId, membId: d.membId, members }
      insertPart(target.rankOf, g.parts, part)
      for (const m of members) target.memberAdded(m, g.name)
      if (!membIdMatchesGid(d.membId, g.gid)) g.changed = true
    }
  }
}

/** My table as a state payload's groups, in name order so the bytes are deterministic. */
export const snapshotGroups = (groups: Iterable<GroupRecord>): Array<GroupState> =>
  [...groups]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((g) => ({
      name: g.name,
      gid: { ...g.gid },
      changed: g.changed,
      daemons: g.parts.map((p) => ({ daemonId: p.daemonId, membId: p.membId, members: [...p.members] }))
    }))
