/**
 * Reachability and asymmetric links (daemon-protocol §6.5), with the review fixes R4 (§11.2.1:
 * ring-wide quarantine, self-quarantine, J5 evaluated by every daemon) and R6 item 1 (§6.12.1: a
 * daemon counts q as reachable only if it heard q on both channels within `ReachWindow`).
 *
 * Decisions (the spec leaves the tuning open, §14 item 2):
 * - Joins go unicast on the TOKEN channel at *every* Join fire, not every other one: with 8 %
 *   loss, two copies per window miss both with probability 0.6 %, enough to exclude some daemon
 *   of a 9-daemon gather at almost every evaluation; four copies bring it to 4 · 10⁻⁵.
 * - A pair is judged only with reach sets reported at least ReachWindow after both daemons were
 *   in my procSet: right after a partition heals one side always hears the other first, which is
 *   not an asymmetric link.
 * - A consensus that would admit a daemon from outside my current ring waits until every pair is
 *   judged, at most {@link ADMISSION_WAIT_WINDOWS} × ReachWindow after the gather began: a gather
 *   otherwise completes within one Join round, long before any reach set is valid, and J5 would
 *   never see a re-admitted daemon with a one-way link. Departures-only changes do not wait.
 */
import type { ProcId, QuarantineEntry } from "../../Protocol/Ring/JoinPacket.js"
import type { Channel } from "./Types.js"

/** §11.2: first quarantine 1 s, doubling per exclusion within the reset window, at most 60 s. */
export const QUARANTINE_MIN = 1000
export const QUARANTINE_MAX = 60_000
export const QUARANTINE_RESET_WINDOW = 300_000
/**
 * Longest wait for J5 judgements before admitting daemons from outside my ring, in ReachWindows
 * from the start of the gather. Must stay below 2 × Consensus so that the other members' R3 rule
 * (fail the representative after two agreed timeouts) does not fire first.
 */
export const ADMISSION_WAIT_WINDOWS = 2

export class Reachability {
  private readonly heardAt = new Map<number, { DATA: number; TOKEN: number }>()
  private readonly reports = new Map<number, { readonly incarnation: number; readonly reach: ReadonlySet<number>; readonly at: number }>()
  private readonly since = new Map<number, number>()
  private readonly quarantined = new Map<number, { incarnation: number; until: number }>()
  private readonly history = new Map<number, { interval: number; at: number }>()
  /** R6 item 2: successors that never took my commit token, left out of my reach until then. */
  private readonly unreachableUntil = new Map<number, number>()
  /**
   * My reach as a set, kept while neither time nor what I heard changed: J5 looks at every pair
   * of the gather per join, and rebuilding it per pair made a 128-daemon gather cost seconds.
   */
  private myReachMemo: { readonly now: number; readonly version: number; readonly reach: ReadonlySet<number> } | undefined
  /** Bumped whenever `myReach` may change at a given time. */
  private version = 0
  /** R4 item 2: while `now < selfQuarantineUntil` I stay alone. */
  selfQuarantineUntil = 0
  /** §6.5: when I left OPERATIONAL (or booted); not restarted by G-enter, back-off or COMMIT. */
  outOfOperationalSince = 0

  constructor(
    private readonly myId: number,
    /** `ReachWindow` = 4 × Join (R6 item 1). */
    readonly window: number,
    private readonly rankOf: (id: number) => number
  ) {}

  heard(id: number, channel: Channel, now: number): void {
    let h = this.heardAt.get(id)
    if (h === undefined) {
      h = { DATA: -Infinity, TOKEN: -Infinity }
      this.heardAt.set(id, h)
    }
    h[channel] = now
    this.version++
  }

  /** Daemons I heard on both channels within the window (me included), minus R6 item 2 reports. */
  myReach(now: number): Array<number> {
    const out = [this.myId]
    for (const [id, h] of this.heardAt) {
      if ((this.unreachableUntil.get(id) ?? 0) > now) continue
      if (now - h.DATA <= this.window && now - h.TOKEN <= this.window) out.push(id)
    }
    return out.sort((a, b) => a - b)
  }

  /**
   * Those of `ids` whose joins reach me: heard on the DATA channel within the window (joins are
   * multicast there at every G-enter; the TOKEN copy waits for the Join timer), me excluded.
   */
  heardJoining(ids: Iterable<number>, now: number): Array<number> {
    const out: Array<number> = []
    for (const id of ids) {
      const h = this.heardAt.get(id)
      if (id !== this.myId && h !== undefined && now - h.DATA <= this.window) out.push(id)
    }
    return out
  }

  /**
   * Silence I expected is not unreachability: daemons agreed with me, or in my commit attempt,
   * send nothing while the commit token travels (COMMIT and RECOVERY are quiet, §6.6). The
   * caller passes those whose joins reached it when the silence began; they count as heard on
   * both channels `now`. Decision: without it, the reach sets reported right after a back-off reflected who
   * happened to speak last (a member still gathering keeps sending joins; the others are
   * quiet), and one lost commit token made J5 exclude healthy daemons. R6 item 2 reports still
   * apply: a link that lost the commit token stays out of my reach.
   */
  expectedSilence(ids: Iterable<number>, now: number): void {
    for (const id of ids) {
      const h = this.heardAt.get(id)
      if (h === undefined) continue
      h.DATA = Math.max(h.DATA, now)
      h.TOKEN = Math.max(h.TOKEN, now)
    }
    this.version++
  }

  private myReachSet(now: number): ReadonlySet<number> {
    const m = this.myReachMemo
    if (m !== undefined && m.now === now && m.version === this.version) return m.reach
    const reach = new Set(this.myReach(now))
    this.myReachMemo = { now, version: this.version, reach }
    return reach
  }

  /**
   * R6 item 2: my commit token's retransmissions to `id` ran out without evidence; report it
   * unreachable for 2 × ReachWindow (long enough for the next gather's judgement).
   */
  markUnreachable(id: number, now: number): void {
    this.unreachableUntil.set(id, now + 2 * this.window)
    this.version++
  }

  reachValid(operational: boolean, now: number): boolean {
    return !operational && now - this.outOfOperationalSince >= this.window
  }

  /** A new gather period (gatherEnter from OPERATIONAL, boot, install). */
  startPeriod(now: number): void {
    this.outOfOperationalSince = now
    this.since.clear()
    this.reports.clear()
  }

  report(q: ProcId, reach: ReadonlyArray<number>, now: number): void {
    this.reports.set(q.id, { incarnation: q.incarnation, reach: new Set(reach), at: now })
  }

  private reachOf(p: ProcId, now: number, myValid: boolean): { reach: ReadonlySet<number>; at: number } | undefined {
    if (p.id === this.myId) return myValid ? { reach: this.myReachSet(now), at: now } : undefined
    const r = this.reports.get(p.id)
    return r !== undefined && r.incarnation === p.incarnation ? r : undefined
  }

  /** Can the pair be judged: both reach sets known and reported a full window after both were in procSet? */
  private judgeable(a: ProcId, b: ProcId, now: number, myValid: boolean): { ra: ReadonlySet<number>; rb: ReadonlySet<number> } | undefined {
    const sa = this.since.get(a.id)
    const sb = this.since.get(b.id)
    if (sa === undefined || sb === undefined) return undefined
    const mature = Math.max(sa, sb) + this.window
    if (now < mature) return undefined
    const ra = this.reachOf(a, now, myValid)
    const rb = this.reachOf(b, now, myValid)
    if (ra === undefined || rb === undefined || ra.at < mature || rb.at < mature) return undefined
    return { ra: ra.reach, rb: rb.reach }
  }

  /** Have all pairs of `live` been judged (so consensus may admit them together)? */
  allJudged(live: ReadonlyArray<ProcId>, now: number, myValid: boolean): boolean {
    for (const p of live) if (!this.since.has(p.id)) this.since.set(p.id, now)
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) if (this.judgeable(live[i]!, live[j]!, now, myValid) === undefined) return false
    }
    return true
  }

  /** Is the pair judged, and asymmetric? Returns the loser (higher rank) or undefined. */
  private asymmetricLoser(a: ProcId, b: ProcId, now: number, myValid: boolean): ProcId | undefined {
    const r = this.judgeable(a, b, now, myValid)
    if (r === undefined) return undefined
    const aHearsB = r.ra.has(b.id)
    const bHearsA = r.rb.has(a.id)
    if (aHearsB === bHearsA) return undefined
    return this.rankOf(a.id) > this.rankOf(b.id) ? a : b
  }

  /**
   * R4 item 3: the losers of the judged asymmetric pairs among `live` (J5 evaluated by all).
   * Decision: pairs are taken in rank order and a pair with an already excluded member is
   * skipped. A daemon whose inbound traffic is broken is asymmetric with everyone; with the plain
   * "higher rank loses" rule every healthy daemon ranked after it would be excluded too.
   */
  losers(live: ReadonlyArray<ProcId>, now: number, myValid: boolean): Array<ProcId> {
    for (const p of live) if (!this.since.has(p.id)) this.since.set(p.id, now)
    const out = new Map<number, ProcId>()
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) {
        if (out.has(live[i]!.id) || out.has(live[j]!.id)) continue
        const l = this.asymmetricLoser(live[i]!, live[j]!, now, myValid)
        if (l !== undefined) out.set(l.id, l)
      }
    }
    return [...out.values()]
  }

  /** R4 item 3: `winner` must not be failed on the word of `loser`, its asymmetric partner. */
  isWinnerOver(winner: ProcId, loser: ProcId, now: number, myValid: boolean): boolean {
    const l = this.asymmetricLoser(winner, loser, now, myValid)
    return l !== undefined && l.id === loser.id
  }

  private nextInterval(id: number, now: number): number {
    const h = this.history.get(id)
    const interval = h !== undefined && now - h.at < QUARANTINE_RESET_WINDOW ? Math.min(QUARANTINE_MAX, h.interval * 2) : QUARANTINE_MIN
    this.history.set(id, { interval, at: now })
    return interval
  }

  quarantine(p: ProcId, now: number): void {
    const until = now + this.nextInterval(p.id, now)
    const cur = this.quarantined.get(p.id)
    if (cur === undefined || cur.until < until) this.quarantined.set(p.id, { incarnation: p.incarnation, until })
  }

  selfQuarantine(now: number): void {
    this.selfQuarantineUntil = Math.max(this.selfQuarantineUntil, now + this.nextInterval(this.myId, now))
  }

  /** R4 item 1: merge a ring member's quarantine list, keeping the longest remaining time. */
  merge(entries: ReadonlyArray<QuarantineEntry>, now: number): void {
    for (const e of entries) {
      if (e.id === this.myId) continue
      const until = now + e.remainingMs
      const cur = this.quarantined.get(e.id)
      if (cur === undefined || cur.until < until) this.quarantined.set(e.id, { incarnation: e.incarnation, until })
    }
  }

  isQuarantined(id: number, now: number): boolean {
    const q = this.quarantined.get(id)
    return q !== undefined && q.until > now
  }

  isSelfQuarantined(now: number): boolean {
    return now < this.selfQuarantineUntil
  }

  list(now: number): Array<QuarantineEntry> {
    const out: Array<QuarantineEntry> = []
    for (const [id, q] of this.quarantined) {
      if (q.until > now) out.push({ id, incarnation: q.incarnation, remainingMs: Math.min(0xffff_ffff, Math.ceil(q.until - now)) })
      else this.quarantined.delete(id)
    }
    return out
  }
}
