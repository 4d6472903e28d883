/**
 * daemon-protocol §9.5: what a reloaded configuration changes for this daemon, compared with the
 * one it runs on. Pure; the engine acts on the answer ({@link RingEngine}).
 *
 * A daemon's identity is its id and its name; its addressing is its IP and the driver's
 * `endpoint` text (port, segment addresses, interfaces). Decisions (§9.5 is silent on them):
 * * A daemon that keeps its name but gets another id (or the reverse) changed its identity, as in
 *   Spread (`Conf_reload_initiate` matches daemons by name and by id).
 * * A change in the relative order of the daemons that stay changes everyone's rank (ring order,
 *   leader, the order of members in views, §2.1): treated like a changed address (isolate).
 *   Daemons inserted or removed around the others leave that order alone.
 * * The same daemons under a new hash (`AcceleratedRing`, `MaxSeqGap`, `MaxMessageSize`, …)
 *   re-form the ring (`gatherEnter`): the hash keeps daemons of different settings apart (§9.3).
 * * `MaxPacketSize` sizes the send queues' fragments: a change needs a restart (refused).
 */
import { checkRingConfig, type RingConfig, type RingDaemon } from "./RingConfig.js"

export type ReloadChange =
  /** Same daemons, same hash: only windows and timeouts may differ. */
  | { readonly _tag: "Settings" }
  /** Daemons added or removed (or the same daemons under a new hash): a membership change. */
  | { readonly _tag: "Membership"; readonly added: ReadonlyArray<number>; readonly removed: ReadonlyArray<number> }
  /** Another daemon's identity or addressing changed: singleton partition, then merge. */
  | { readonly _tag: "Isolate"; readonly reason: string }
  /** The configuration cannot be applied at run time; nothing changes. */
  | { readonly _tag: "Refused"; readonly reason: string }
  /** My own identity or addressing changed: the daemon must exit. */
  | { readonly _tag: "Fatal"; readonly reason: string }

const hex = (id: number): string => `0x${(id >>> 0).toString(16)}`
const label = (d: RingDaemon): string => (d.name === undefined ? hex(d.id) : `${d.name} (${hex(d.id)})`)

/** What differs in the identity or addressing of one daemon kept under its id, or undefined. */
const changeOf = (before: RingDaemon, after: RingDaemon): string | undefined => {
  if (before.name !== after.name) return `${label(before)} is now named ${after.name ?? "(none)"}`
  if (before.address !== after.address) return `${label(before)} moved from ${before.address} to ${after.address}`
  if (before.endpoint !== after.endpoint) return `${label(before)} changed its port, segment or interfaces`
  return undefined
}

export const classifyReload = (current: RingConfig, next: RingConfig, myId: number): ReloadChange => {
  const errors = checkRingConfig(next)
  if (errors.length > 0) return { _tag: "Refused", reason: `invalid ring configuration: ${errors.join("; ")}` }
  const before = new Map(current.daemons.map((d) => [d.id, d]))
  const after = new Map(next.daemons.map((d) => [d.id, d]))
  const meBefore = before.get(myId)!
  const meAfter = after.get(myId)
  if (meAfter === undefined) return { _tag: "Fatal", reason: `this daemon, ${label(meBefore)}, is no longer configured` }
  const mine = changeOf(meBefore, meAfter)
  if (mine !== undefined) return { _tag: "Fatal", reason: `this daemon changed: ${mine}` }
  if (next.maxPacketSize !== current.maxPacketSize) {
    return { _tag: "Refused", reason: `MaxPacketSize ${current.maxPacketSize} → ${next.maxPacketSize} needs a restart` }
  }
  const byName = new Map(current.daemons.flatMap((d) => (d.name === undefined ? [] : [[d.name, d] as const])))
  for (const d of next.daemons) {
    const old = before.get(d.id)
    if (old !== undefined) {
      const change = changeOf(old, d)
      if (change !== undefined) return { _tag: "Isolate", reason: change }
      continue
    }
    const sameName = d.name === undefined ? undefined : byName.get(d.name)
    if (sameName !== undefined) return { _tag: "Isolate", reason: `${label(sameName)} now has id ${hex(d.id)}` }
  }
  const keptBefore = current.daemons.filter((d) => after.has(d.id)).map((d) => d.id)
  const keptAfter = next.daemons.filter((d) => before.has(d.id)).map((d) => d.id)
  if (keptBefore.some((id, i) => keptAfter[i] !== id)) return { _tag: "Isolate", reason: "the order of the configured daemons changed" }
  const added = next.daemons.filter((d) => !before.has(d.id)).map((d) => d.id)
  const removed = current.daemons.filter((d) => !after.has(d.id)).map((d) => d.id)
  if (added.length > 0 || removed.length > 0 || next.configHash !== current.configHash) return { _tag: "Membership", added, removed }
  return { _tag: "Settings" }
}
