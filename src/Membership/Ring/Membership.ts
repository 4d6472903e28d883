/**
 * Membership with Extended Virtual Synchrony (daemon-protocol §6, §7): GATHER → COMMIT →
 * RECOVERY → install, boot alone (§6.11), back-off (§6.9), discovery by probes and foreign
 * evidence (§6.12), graceful leave (§6.13), newer incarnations (§11.4).
 *
 * Reachability, J5 and quarantine (§6.5, R4, R6 item 1) are in {@link Reachability}. A
 * configuration reload (§9.5) is decided by the engine and carried out by {@link Membership.reload}.
 */
import {
  type Commit, CommitPhase, encodeCommit, rangesOf, type Section, type SeqRange
} from "../../Protocol/Ring/CommitPacket.js"
import { encodeLeave, encodeProbe } from "../../Protocol/Ring/ControlPackets.js"
import type { DataPacket } from "../../Protocol/Ring/DataPacket.js"
import type { CommonHeader } from "../../Protocol/Ring/Header.js"
import { encodeJoin, type Join, type ProcId } from "../../Protocol/Ring/JoinPacket.js"
import { compareRingId, oldRingIdEquals, type RingId, ringIdEquals } from "../../Protocol/Ring/RingId.js"
import { type Token, TokenPhase } from "../../Protocol/Ring/TokenPacket.js"
import type { Env } from "./Env.js"
import { Ordering } from "./Ordering.js"
import { ProcSets } from "./ProcSets.js"
import { ADMISSION_WAIT_WINDOWS, Reachability } from "./Reachability.js"
import type { ConfigurationId } from "./Types.js"

export type MemberState = "OPERATIONAL" | "GATHER" | "COMMIT" | "RECOVERY"

/** §6.7, §12.2: leader drops a recovery token after this many rotations (Spread `MAX_EVS_ROUNDS`). */
export const RECOVERY_ROTATION_LIMIT = 500
/** §6.13: LEAVE is multicast this many times (one copy may be lost). */
export const LEAVE_COPIES = 3
/** Bound on hole seqs expanded from a received section (a section spans at most the ring buffer). */
const MAX_HOLE_SEQS = 1 << 20

export interface MembershipEnv extends Env {
  readonly now: number
  rankOf(id: number): number
  readonly configuredIds: ReadonlyArray<number>
  /** A regular ring was installed (OPERATIONAL again): the engine's deferred §9.5 work. */
  onRegularInstall(): void
}

const nextEven = (x: number): number => x + 2 - (x % 2)

const expandHoles = (holes: ReadonlyArray<SeqRange>): Set<number> => {
  const out = new Set<number>()
  for (const h of holes) for (let s = h.first; s < h.first + h.count && out.size < MAX_HOLE_SEQS; s++) out.add(s)
  return out
}

export class Membership {
  state: MemberState = "GATHER"
  /** My current ring: the last regular ring I installed (or the boot ring, seq 0). §6.9: never a failed attempt. */
  ring!: Ordering
  /** The new ring between INSTALL step 5 and install (§6.6). */
  next: Ordering | undefined
  /** False until the first regular install: the boot ring has no transitional configuration (§6.11). */
  installedOnce = false
  readonly sets: ProcSets
  /** §6.5, R4, R6: who hears whom; quarantine. */
  readonly reach: Reachability
  /** Members whose latest JOIN carried exactly my sets (§6.2). */
  private agreed = new Set<number>()
  /** Latest JOIN per daemon, with the sender's incarnation. */
  private readonly joins = new Map<number, { readonly incarnation: number; readonly join: Join }>()
  maxRingSeqSeen = 0
  lastCommitSeq = 0
  private persistedSeq = 0
  /** §6.8: daemons whose post-hole messages I deliver in my next transitional configuration. */
  commitSet = new Set<number>()
  /** Attempt members whose joins reached me when COMMIT began: their silence is expected (Reachability). */
  private quietPeers: ReadonlyArray<number> = []
  /** The attempt I contributed to (COLLECT): new ring, members, the sets it was formed from. */
  private attempt: {
    readonly newRing: RingId
    readonly members: ReadonlyArray<ProcId>
    readonly setsKey: string
    /** A snapshot of the sets the attempt was formed from (R3 item 2). */
    readonly sets: ProcSets
  } | undefined
  private section: Section | undefined
  private holes: Set<number> = new Set()
  private recComplete = false
  private doneStreak = 0
  private lastCommitHop = 0
  private savedCommit: { readonly bytes: Buffer; readonly to: number } | undefined
  private commitRetransmitsLeft = 0
  /** R3: the sets of the last consensus timeout that found everyone agreed. */
  private consensusStreak: string | undefined
  /** §6.12 probe back-off per absent daemon. */
  private readonly probes = new Map<number, { interval: number; nextAt: number }>()
  /**
   * Daemons whose LEAVE I applied, with their incarnation and the ring they left (§6.13).
   * Decision: their packets of that ring or an older one, overtaken by the LEAVE, are not
   * foreign evidence (§6.12); a late token from a leaver otherwise started a second membership
   * change towards a daemon that is gone. A restart comes back with a new incarnation.
   */
  private readonly departed = new Map<number, { readonly incarnation: number; readonly ringSeq: number }>()

  constructor(private readonly env: MembershipEnv) {
    this.sets = new ProcSets(env.myId, (id) => env.rankOf(id))
    this.reach = new Reachability(env.myId, 4 * env.config.timeouts.join, (id) => env.rankOf(id))
  }

  private get me(): ProcId {
    return { id: this.env.myId, incarnation: this.env.incarnation }
  }
  private get cfg() {
    return this.env.config
  }
  private isHole = (s: number): boolean => this.holes.has(s)

  /** The ring a `SendMulticast(RING)` reaches: the new ring during recovery (§6.6 INSTALL step 5). */
  get currentRing(): Ordering {
    return this.next ?? this.ring
  }

  // ---------------------------------------------------------------------------------------------
  // boot (§6.11) and fixed mode

  boot(ringSeqFloor: number, fixedRing: ReadonlyArray<ProcId> | undefined): void {
    this.reach.startPeriod(this.env.now)
    this.maxRingSeqSeen = ringSeqFloor
    this.lastCommitSeq = ringSeqFloor
    this.persistedSeq = ringSeqFloor
    if (fixedRing !== undefined) {
      const members = [...fixedRing].sort((a, b) => this.env.rankOf(a.id) - this.env.rankOf(b.id))
      const ring = new Ordering(this.env, { seq: nextEven(ringSeqFloor), rep: members[0]!.id }, members.map((m) => m.id), members.map((m) => m.incarnation))
      this.installRing(ring)
      if (ring.isLeader) ring.startFirstToken(TokenPhase.OPERATIONAL)
      else this.env.setTimer("TokenLoss", this.cfg.timeouts.tokenLoss)
      return
    }
    // The boot ring (0, me): no messages, never announced as installed.
    this.ring = new Ordering(this.env, { seq: 0, rep: this.env.myId }, [this.env.myId], [this.env.incarnation])
    this.ring.gate = "CLOSED"
    this.sets.reset([this.me])
    this.gEnter()
  }

  /** §6.8 step 6 (shared with fixed mode): the ring becomes my installed regular configuration. */
  private installRing(ring: Ordering): void {
    this.ring = ring
    this.next = undefined
    this.installedOnce = true
    this.state = "OPERATIONAL"
    this.maxRingSeqSeen = Math.max(this.maxRingSeqSeen, ring.ringId.seq)
    ring.gate = "ORDERED_ONLY"
    this.env.emit({ _tag: "Install", kind: "REG", configId: ring.configId, members: ring.members, incarnations: ring.memberIncarnations })
    // R6 item 3: a probe interval is reset when a ring containing the daemon is installed.
    for (const id of ring.members) this.probes.delete(id)
    if (ring.isLeader) this.armProbe()
    this.env.onRegularInstall()
  }

  // ---------------------------------------------------------------------------------------------
  // GATHER (§6.3, §6.4)

  /** §6.3 `gatherEnter`, from OPERATIONAL. */
  gatherEnter(extra: ReadonlyArray<ProcId>): void {
    const ring = this.ring
    ring.gate = "CLOSED"
    ring.stopTimers()
    this.env.cancelTimer("Probe")
    this.sets.reset(ring.members.map((id, i) => ({ id, incarnation: ring.memberIncarnations[i]! })))
    this.sets.addProc(this.me)
    for (const p of extra) this.sets.addProc(p)
    this.state = "GATHER"
    this.reach.startPeriod(this.env.now)
    this.gEnter()
  }

  /**
   * §9.5 from OPERATIONAL, once the engine runs on the reloaded configuration: probes of daemons
   * no longer configured are forgotten, ring members no longer configured are failed (or, when
   * `isolate`, every other member: a singleton forms at once, as with the stall rule's
   * self-exclusion, §11.3, but without quarantine), then `gatherEnter`. New daemons are not
   * added to procSet (their incarnations are unknown): the JOIN reaches them (scope CONFIGURED)
   * and theirs bring them in (§6.4).
   */
  reload(isolate: boolean): void {
    const configured = new Set(this.env.configuredIds)
    for (const id of this.probes.keys()) if (!configured.has(id)) this.probes.delete(id)
    this.failRingMembers((id) => isolate || !configured.has(id))
    this.gatherEnter([])
  }

  /** `failSet ∪=` the members of my ring (never me) that `fail` selects; it survives gatherEnter (§6.3 step 2). */
  private failRingMembers(fail: (id: number) => boolean): void {
    const ring = this.ring
    for (let i = 0; i < ring.members.length; i++) {
      const id = ring.members[i]!
      if (id !== this.env.myId && fail(id)) this.sets.addFail({ id, incarnation: ring.memberIncarnations[i]! })
    }
  }

  /** §6.3 G-enter: agreed := {me}, a join now, timers restarted, then the consensus check. */
  private gEnter(): void {
    this.state = "GATHER"
    this.agreed = new Set([this.env.myId])
    this.sendJoin()
    this.env.setTimer("Join", this.cfg.timeouts.join)
    this.env.setTimer("Consensus", this.cfg.timeouts.consensus)
    this.consensusCheck()
  }

  private joinBytes(): Buffer {
    const now = this.env.now
    const valid = this.reach.reachValid(this.state === "OPERATIONAL", now)
    return encodeJoin(this.env.stamp, {
      maxRingSeqSeen: this.maxRingSeqSeen,
      oldRing: this.ring.fullId,
      procSet: this.sets.procList(),
      failSet: this.sets.failList(),
      reachValid: valid,
      reach: valid ? this.reach.myReach(now) : [],
      quarantine: this.reach.list(now)
    })
  }

  private sendJoin(): void {
    this.env.emit({ _tag: "SendMulticast", scope: "CONFIGURED", channel: "DATA", bytes: this.joinBytes() })
  }

  /** §6.4 J2: consensus → the lowest-rank live daemon creates the commit token. */
  private consensusCheck(): void {
    if (this.state !== "GATHER") return
    const live = this.sets.live()
    if (live.length === 0 || live[0]!.id !== this.env.myId) return
    if (!live.every((p) => this.agreed.has(p.id))) return
    // Decision (see Reachability): admitting daemons from outside my ring waits for J5.
    const now = this.env.now
    // A daemon comes from outside my ring if it is not a member or announces another old ring.
    const mine = this.ring.fullId
    const admits = live.some((p) => {
      if (p.id === this.env.myId) return false
      const j = this.joins.get(p.id)
      return this.ring.incarnationOf(p.id) !== p.incarnation || j === undefined || j.incarnation !== p.incarnation ||
        !oldRingIdEquals(j.join.oldRing, mine)
    })
    const waited = now - this.reach.outOfOperationalSince >= ADMISSION_WAIT_WINDOWS * this.reach.window
    if (admits && live.length > 1 && !waited && !this.reach.allJudged(live, now, this.reach.reachValid(false, now))) return
    this.createCommit(live)
  }

  onJoin(h: CommonHeader, j: Join): void {
    const q: ProcId = { id: h.senderId, incarnation: h.senderIncarnation }
    this.maxRingSeqSeen = Math.max(this.maxRingSeqSeen, j.maxRingSeqSeen, j.oldRing.seq)
    this.joins.set(q.id, { incarnation: q.incarnation, join: j })
    const me = this.me
    switch (this.state) {
      case "OPERATIONAL": {
        // R4: a quarantined daemon's join never starts a merge; nor does anything while I am self-quarantined.
        if (this.reach.isQuarantined(q.id, this.env.now) || this.reach.isSelfQuarantined(this.env.now)) return
        const memberInc = this.ring.incarnationOf(q.id)
        const iAmFailed = j.failSet.some((p) => p.id === me.id && p.incarnation === me.incarnation)
        if ((memberInc === q.incarnation && j.oldRing.seq < this.ring.ringId.seq) || iAmFailed) return
        this.gatherEnter([q])
        this.applyJoin(q, j)
        return
      }
      case "GATHER":
        this.applyJoin(q, j)
        return
      case "COMMIT":
      case "RECOVERY": {
        const a = this.attempt
        if (a === undefined || !a.members.some((m) => m.id === q.id && m.incarnation === q.incarnation)) return
        // §6.9 and R3 item 2: the member gave up, or cannot accept this attempt any more.
        // Decision: a join whose sets are contained in the attempt's is an older join of that
        // member (sent before it had the attempt's sets), not a change: no back-off.
        const k = this.sets.normalizedKey(j.procSet, j.failSet)
        const older = a.sets.contains(j.procSet, j.failSet)
        if (j.maxRingSeqSeen >= a.newRing.seq || (k !== a.setsKey && !older)) {
          this.backOff()
          this.applyJoin(q, j)
        }
        return
      }
    }
  }

  /** §6.4 J1–J5 (J5 and quarantine through {@link Reachability}, R4). */
  private applyJoin(q: ProcId, j: Join): void {
    const sets = this.sets
    if (sets.isFailed(q) || sets.isStale(q)) return // J1
    const now = this.env.now
    if (this.reach.isQuarantined(q.id, now) || this.reach.isSelfQuarantined(now)) return // R4 items 1–2
    const me = this.me
    const trusted = this.ring.incarnationOf(q.id) === q.incarnation
    if (j.reachValid) this.reach.report(q, j.reach, now)
    if (trusted) this.reach.merge(j.quarantine, now) // R4 item 1, the J4 trust rule
    if (this.checkAsymmetry()) return // J5, evaluated by all (R4 item 3)
    const failsMe = j.failSet.some((p) => p.id === me.id && p.incarnation === me.incarnation)
    // Decision: a join that reports me failed but has not seen my current ring's seq was made
    // before its sender could know my current ring: outdated, ignored. Applying it (J4) let two
    // daemons exclude each other for ever, each with the other's previous gather's joins.
    if (failsMe && j.maxRingSeqSeen < this.ring.ringId.seq) return
    if (sets.normalizedKey(j.procSet, j.failSet) === sets.key()) { // J2
      if (sets.hasProc(q)) {
        this.agreed.add(q.id)
        this.consensusCheck()
      }
      return
    }
    if (sets.contains(j.procSet, j.failSet)) return // J3
    // J4: merge.
    let changed = false
    for (const p of j.procSet) {
      changed = sets.addProc(p) || changed
      // R4 item 1: a quarantined daemon listed by another is failed here (keeps sets comparable).
      if (p.id !== me.id && this.reach.isQuarantined(p.id, now)) changed = sets.addFail(p, me.incarnation) || changed
    }
    changed = sets.addProc(q) || changed
    const myValid = this.reach.reachValid(false, now)
    if (failsMe) {
      changed = sets.addFail(q) || changed // q cannot see me: we must not form a ring together.
    } else if (trusted) {
      for (const p of j.failSet) {
        if (this.reach.isWinnerOver(p, q, now, myValid)) continue // R4 item 3
        changed = sets.addFail(p, me.incarnation) || changed
      }
    } else {
      // Older incarnations are certainly dead, whoever reports them (§11.4).
      for (const p of j.failSet) if (sets.isStale(p)) changed = sets.addFail(p, me.incarnation) || changed
    }
    // Decision: G-enter only when my sets changed. A join whose fail set I do not trust (its
    // sender is not in my ring) would otherwise make both sides answer each other's joins for
    // ever; the Consensus timer settles such a disagreement.
    if (changed) this.gEnter()
  }

  onJoinTimer(): void {
    if (this.state !== "GATHER") return
    // Agreed daemons may be in COMMIT already, quiet until the commit token comes (Reachability).
    const now = this.env.now
    if (this.sets.live().every((p) => this.agreed.has(p.id))) this.reach.expectedSilence(this.reach.heardJoining(this.agreed, now), now)
    const bytes = this.joinBytes()
    this.env.emit({ _tag: "SendMulticast", scope: "CONFIGURED", channel: "DATA", bytes })
    // R6 item 1 (decision: at every fire): the join also goes unicast on the TOKEN channel, so
    // that reach covers both channels the ring will use.
    for (const p of this.sets.live()) {
      if (p.id !== this.env.myId) this.env.emit({ _tag: "SendUnicast", to: p.id, channel: "TOKEN", bytes })
    }
    this.env.setTimer("Join", this.cfg.timeouts.join)
    if (!this.checkAsymmetry()) this.consensusCheck()
  }

  /**
   * §6.5 J5 with R4 item 3: every judged asymmetric pair among the live daemons loses its
   * higher-rank member. If that is me, I exclude myself and self-quarantine (R4 item 2); else
   * the loser is failed and quarantined. Returns true if it G-entered.
   */
  private checkAsymmetry(): boolean {
    if (this.state !== "GATHER") return false
    const now = this.env.now
    const losers = this.reach.losers(this.sets.live(), now, this.reach.reachValid(false, now))
    if (losers.length === 0) return false
    if (losers.some((l) => l.id === this.env.myId)) {
      this.selfExclude()
      return true
    }
    let changed = false
    for (const l of losers) {
      if (this.sets.addFail(l)) {
        changed = true
        this.reach.quarantine(l, now)
      }
    }
    if (changed) this.gEnter()
    return changed
  }

  /** J5 loser or stall rule (§11.3): everybody else failed, self-quarantine; a singleton forms. */
  private selfExclude(): void {
    this.env.counters.selfExclusions++
    for (const p of this.sets.procList()) if (p.id !== this.env.myId) this.sets.addFail(p)
    this.reach.selfQuarantine(this.env.now)
    this.gEnter()
  }

  /** §6.4 `Consensus` timer with the R3 fix (§6.4.1). */
  onConsensusTimer(): void {
    if (this.state !== "GATHER") return
    const live = this.sets.live()
    const missing = live.filter((p) => !this.agreed.has(p.id))
    if (missing.length > 0) {
      for (const p of missing) this.sets.addFail(p)
      this.consensusStreak = undefined
      this.gEnter()
      return
    }
    const key = this.sets.key()
    if (this.consensusStreak === key && live[0] !== undefined && live[0].id !== this.env.myId) {
      this.sets.addFail(live[0])
      this.consensusStreak = undefined
      this.gEnter()
      return
    }
    this.consensusStreak = key
    this.agreed = new Set([this.env.myId])
    this.sendJoin()
    this.env.setTimer("Consensus", this.cfg.timeouts.consensus)
  }

  // ---------------------------------------------------------------------------------------------
  // COMMIT (§6.6)

  private createCommit(live: ReadonlyArray<ProcId>): void {
    const seq = nextEven(Math.max(this.maxRingSeqSeen, this.lastCommitSeq, this.ring.ringId.seq))
    const members = live.map((p) => ({
      id: p.id,
      incarnation: p.incarnation,
      oldRing: p.id === this.env.myId ? this.ring.fullId : this.joins.get(p.id)!.join.oldRing
    }))
    this.collect({ newRing: { seq, rep: this.env.myId }, hop: 1, phase: CommitPhase.COLLECT, index: 0, members, sections: [] })
  }

  onCommit(c: Commit): void {
    this.maxRingSeqSeen = Math.max(this.maxRingSeqSeen, c.newRing.seq)
    this.consensusStreak = undefined
    const me = this.me
    if (c.phase === CommitPhase.COLLECT) {
      // §6.6 COLLECT step 1.
      if (this.state !== "GATHER") return
      const m = c.members[c.index]
      if (m === undefined || m.id !== me.id || m.incarnation !== me.incarnation) return
      const live = this.sets.live()
      if (live.length !== c.members.length || live.some((p, i) => p.id !== c.members[i]!.id || p.incarnation !== c.members[i]!.incarnation)) return
      if (c.newRing.seq <= Math.max(this.ring.ringId.seq, this.lastCommitSeq)) return
      this.collect(c)
      return
    }
    // INSTALL.
    const a = this.attempt
    if (a === undefined || !ringIdEquals(c.newRing, a.newRing) || c.hop <= this.lastCommitHop) return
    if (c.index === c.members.length) {
      // §6.6 INSTALL step 8: back at the representative — every member is in RECOVERY.
      if (this.state === "RECOVERY" && c.members[0]!.id === me.id && this.next !== undefined && this.next.lastHop === 0) {
        this.lastCommitHop = c.hop
        this.savedCommit = undefined
        this.env.cancelTimer("TokenRetransmit")
        this.recoveryVisit({
          ringId: this.next.ringId, hop: 1, rotation: 0, seq: 0, aru: 0, aruId: 0, fcc: 0, backlog: 0,
          phase: TokenPhase.RECOVERY, idle: 0, recDone: 1, recDoneId: 0, ringTable: [], rtr: []
        })
      }
      return
    }
    const m = c.members[c.index]
    if (this.state === "COMMIT" && m !== undefined && m.id === me.id && m.incarnation === me.incarnation) this.install(c)
  }

  /** §6.6 COLLECT steps 1 (bookkeeping) – 5. */
  private collect(c: Commit): void {
    this.lastCommitSeq = Math.max(this.lastCommitSeq, c.newRing.seq)
    this.persist(c.newRing.seq)
    this.lastCommitHop = c.hop
    this.ring.frozen = true
    this.mergeSection(c)
    this.attempt = {
      newRing: c.newRing,
      members: c.members.map((m) => ({ id: m.id, incarnation: m.incarnation })),
      setsKey: this.sets.key(),
      sets: this.sets.snapshot()
    }
    c.index += 1
    c.hop += 1
    if (c.index >= c.members.length) {
      c.phase = CommitPhase.INSTALL
      c.index = 0
    }
    this.quietPeers = this.reach.heardJoining(c.members.map((m) => m.id), this.env.now)
    this.state = "COMMIT"
    this.env.cancelTimer("Join")
    this.env.cancelTimer("Consensus")
    this.env.setTimer("Commit", this.cfg.timeouts.commit)
    this.sendCommit(c.members[c.index]!.id, c)
  }

  /** §6.10.1 R1 item 1: write-ahead of the ring seq, before the commit token goes on. */
  private persist(seq: number): void {
    if (seq > this.persistedSeq) {
      this.persistedSeq = seq
      this.env.emit({ _tag: "PersistRingSeq", seq })
    }
  }

  private sendCommit(to: number, c: Commit): void {
    if (to === this.env.myId) {
      this.env.handOffToSelf({ _tag: "COMMIT", commit: c })
      return
    }
    const bytes = encodeCommit(this.env.stamp, c)
    this.env.emit({ _tag: "SendUnicast", to, channel: "TOKEN", bytes })
    this.savedCommit = { bytes, to }
    this.commitRetransmitsLeft = this.cfg.tokenRetransmitLimit
    this.env.setTimer("TokenRetransmit", this.cfg.timeouts.tokenRetransmit)
  }

  /** §6.6 COLLECT step 3: merge my old ring's state into its section. */
  private mergeSection(c: Commit): void {
    const old = this.ring
    const myStable = old.stableAru
    const myHigh = old.highSeq
    let sec = c.sections.find((s) => oldRingIdEquals(s.oldRing, old.fullId))
    const notHeldIn = (from: number, to: number): Array<number> => {
      const out: Array<number> = []
      for (let s = from + 1; s <= to; s++) if (!old.holds(s)) out.push(s)
      return out
    }
    if (sec === undefined) {
      sec = { oldRing: old.fullId, stableAru: myStable, highSeq: myHigh, trans: [], commit: [], holes: rangesOf(notHeldIn(myStable, myHigh)) }
      c.sections.push(sec)
    } else {
      const kept = [...expandHoles(sec.holes)].filter((s) => !old.holds(s))
      const added = notHeldIn(sec.highSeq, myHigh)
      sec.stableAru = Math.max(sec.stableAru, myStable)
      sec.highSeq = Math.max(sec.highSeq, myHigh)
      const lo = sec.stableAru
      const hi = sec.highSeq
      sec.holes = rangesOf([...kept, ...added].filter((s) => s > lo && s <= hi).sort((a, b) => a - b))
    }
    const byRank = (a: number, b: number) => this.env.rankOf(a) - this.env.rankOf(b)
    sec.trans = [...new Set([...sec.trans, this.env.myId])].sort(byRank)
    sec.commit = [...new Set([...sec.commit, this.env.myId, ...this.commitSet])].sort(byRank)
  }

  /** §6.6 INSTALL at a member (steps 1–8). */
  private install(c: Commit): void {
    const old = this.ring
    const sec = c.sections.find((s) => oldRingIdEquals(s.oldRing, old.fullId))
    if (sec === undefined) {
      this.env.counters.invariantViolations++
      this.env.emit({ _tag: "Trace", event: { type: "invariant", what: "INSTALL token without my section" } })
      return
    }
    this.lastCommitHop = c.hop
    this.section = sec
    this.holes = expandHoles(sec.holes)
    old.deliverStablePrefix(sec.stableAru) // step 3, in my old regular configuration
    old.dropUnreported(sec.highSeq, this.isHole) // step 4
    const next = new Ordering(this.env, c.newRing, c.members.map((m) => m.id), c.members.map((m) => m.incarnation))
    next.gate = "CLOSED"
    this.next = next // step 5
    this.doneStreak = 0
    this.recComplete = false
    c.index += 1 // step 6
    c.hop += 1
    this.env.cancelTimer("Commit") // step 7
    this.savedCommit = undefined
    this.env.cancelTimer("TokenRetransmit")
    this.state = "RECOVERY"
    // Steps 6 and 8: to the next member, or (I am last) back to the representative.
    this.sendCommit(c.index < c.members.length ? c.members[c.index]!.id : c.members[0]!.id, c)
    this.env.setTimer("TokenLoss", this.cfg.timeouts.tokenLoss)
  }

  onCommitRetransmitTimer(): boolean {
    if (this.savedCommit !== undefined && this.commitRetransmitsLeft <= 0) {
      // R6 item 2: no evidence that the successor ever took it.
      this.reach.markUnreachable(this.savedCommit.to, this.env.now)
      this.savedCommit = undefined
      return false
    }
    if (this.savedCommit === undefined) return false
    this.commitRetransmitsLeft--
    this.env.counters.tokenRetransmits++
    this.env.emit({ _tag: "SendUnicast", to: this.savedCommit.to, channel: "TOKEN", bytes: this.savedCommit.bytes })
    // One more fire after the last copy, to report the successor (R6 item 2).
    this.env.setTimer("TokenRetransmit", this.cfg.timeouts.tokenRetransmit)
    return true
  }

  onCommitTimer(): void {
    if (this.state === "COMMIT") this.backOff()
  }

  // ---------------------------------------------------------------------------------------------
  // RECOVERY (§6.7) and install (§6.8)

  /** A token of the new ring arrived in RECOVERY (validated: ring id, predecessor, hop). */
  onRecoveryToken(t: Token): void {
    if (t.phase === TokenPhase.OPERATIONAL) {
      // §6.7 step 1.
      if (this.recComplete) {
        this.installNow()
        this.ring.onToken(t)
      } else {
        this.env.counters.invariantViolations++
        this.env.emit({ _tag: "Trace", event: { type: "invariant", what: "operational token while recovery incomplete" } })
        this.backOff()
      }
      return
    }
    this.recoveryVisit(t)
  }

  private recoveryComplete(): boolean {
    const old = this.ring
    const high = this.section!.highSeq
    for (let s = old.myAru + 1; s <= high; s++) if (!old.holds(s) && !this.holes.has(s)) return false
    return true
  }

  /** §6.7 steps 1–8. */
  private recoveryVisit(t: Token): void {
    const next = this.next!
    const old = this.ring
    const sec = this.section!
    const me = this.env.myId
    next.beginVisit(t)
    this.savedCommit = undefined
    let idx = t.ringTable.findIndex((r) => oldRingIdEquals(r, old.fullId))
    if (idx >= 0) old.answerRequests(t, idx + 1, this.cfg.window, next) // step 2
    if (!this.recoveryComplete()) { // step 3
      if (idx < 0 && t.ringTable.length < 255) {
        t.ringTable.push(old.fullId)
        idx = t.ringTable.length - 1
      }
      if (idx >= 0) old.addRequests(t, idx + 1, sec.highSeq, next, this.isHole)
    } else if (idx >= 0) {
      old.addRequests(t, idx + 1, 0, next) // drops my stale entries
    }
    if (!this.recComplete && this.recoveryComplete()) { // step 5
      this.recComplete = true
      this.commitSet = new Set(sec.commit)
    }
    const v = this.recComplete ? 1 : 0 // step 6
    if (t.recDone > v || t.recDoneId === me || t.recDoneId === 0) {
      t.recDone = v
      t.recDoneId = v === 1 ? 0 : me
    }
    if (next.isLeader) {
      t.rotation += 1
      if (t.rotation > RECOVERY_ROTATION_LIMIT) {
        // §6.7 safety net: drop the token; TokenLoss takes us back to GATHER.
        this.env.setTimer("TokenLoss", this.cfg.timeouts.tokenLoss)
        return
      }
    }
    next.forward(t) // step 7
    this.doneStreak = t.recDone === 1 ? this.doneStreak + 1 : 0 // step 8
    if (this.doneStreak >= 2) this.installNow()
  }

  /** §6.8: deliver the old ring, the transitional configuration, the new regular configuration. */
  private installNow(): void {
    const old = this.ring
    const next = this.next!
    const sec = this.section!
    const byRank = (a: number, b: number) => this.env.rankOf(a) - this.env.rankOf(b)
    const trans = [...sec.trans].sort(byRank)
    const transId: ConfigurationId | undefined = this.installedOnce
      ? { kind: "TRANS", seq: next.ringId.seq - 1, rep: trans[0]! }
      : undefined
    old.installDeliveries(sec.highSeq, this.isHole, this.commitSet, transId, () => {
      if (transId !== undefined) {
        this.env.emit({
          _tag: "Install", kind: "TRANS", configId: transId, members: trans,
          incarnations: trans.map((id) => next.incarnationOf(id) ?? 0)
        })
      }
    })
    // Step 5: reset. (The old ring's timers stopped at gatherEnter; the timer names are shared
    // with the new ring, whose token I just forwarded, so nothing is cancelled here.)
    this.env.restartPartialSends()
    this.commitSet = new Set([this.env.myId])
    // R6 item 3: a merge attempt that ends with a daemon failed doubles its probe interval.
    for (const p of this.sets.failList()) {
      const pr = this.probes.get(p.id)
      if (pr !== undefined && !next.isMember(p.id)) {
        pr.interval = Math.min(pr.interval * 2, this.cfg.timeouts.probeMax)
        pr.nextAt = this.env.now + pr.interval
      }
    }
    this.sets.clearFail()
    this.attempt = undefined
    this.section = undefined
    this.holes = new Set()
    this.env.cancelTimer("Commit")
    // Step 6.
    this.installRing(next)
    next.orderedWalk() // new-ring packets stored during recovery (§6.15)
    if (!next.isLeader && !next.hasSavedToken) this.env.setTimer("TokenLoss", this.cfg.timeouts.tokenLoss)
  }

  /** §6.9 back-off from COMMIT or RECOVERY. */
  backOff(): void {
    if (this.state !== "COMMIT" && this.state !== "RECOVERY") return
    for (const t of ["Commit", "TokenLoss", "TokenRetransmit"] as const) this.env.cancelTimer(t)
    this.savedCommit = undefined
    if (this.next !== undefined) {
      this.next.stopTimers()
      this.next = undefined
    }
    this.ring.backOff()
    this.reach.expectedSilence(this.quietPeers, this.env.now)
    this.quietPeers = []
    const a = this.attempt
    if (a !== undefined) for (const m of a.members) this.sets.addProc(m)
    this.attempt = undefined
    this.section = undefined
    this.holes = new Set()
    this.recComplete = false
    this.doneStreak = 0
    this.gEnter()
  }

  // ---------------------------------------------------------------------------------------------
  // DATA and foreign evidence (§6.12, §6.15)

  onData(h: CommonHeader, p: DataPacket, bytes: Buffer): void {
    const ring = this.ring
    if (ringIdEquals(p.ringId, ring.ringId) && ring.ringId.seq > 0) {
      if (this.state === "OPERATIONAL") ring.onData(h, p, bytes)
      else if (this.state === "GATHER" && !ring.frozen) ring.onData(h, p, bytes)
      else if (this.state === "RECOVERY" && p.seq <= this.section!.highSeq && !this.holes.has(p.seq)) ring.storeRecovered(p, bytes)
      return
    }
    const next = this.next
    if (next !== undefined && ringIdEquals(p.ringId, next.ringId)) {
      next.onData(h, p, bytes)
      return
    }
    this.foreignEvidence({ id: h.senderId, incarnation: h.senderIncarnation }, p.ringId)
  }

  /** §6.12: DATA, TOKEN or PROBE of another ring from q. */
  foreignEvidence(q: ProcId, ringId: RingId): void {
    const now = this.env.now
    if (this.reach.isQuarantined(q.id, now)) return // R4 item 1
    const left = this.departed.get(q.id)
    if (left !== undefined && left.incarnation === q.incarnation && ringId.seq <= left.ringSeq) return
    if (this.state === "OPERATIONAL") {
      if (this.reach.isSelfQuarantined(now)) return // R4 item 2
      if (ringIdEquals(ringId, this.ring.ringId)) return
      if (this.ring.incarnationOf(q.id) === q.incarnation && compareRingId(ringId, this.ring.ringId) < 0) return
      this.env.counters.foreign++
      this.gatherEnter([q])
    } else if (this.state === "GATHER") {
      if (this.sets.proc.has(q.id) && !this.sets.isStale(q) && this.sets.proc.get(q.id)! >= q.incarnation) return
      if (this.sets.isFailed(q) || this.sets.isStale(q)) return
      this.sets.addProc(q)
      this.gEnter()
    }
  }

  onToken(senderId: number, t: Token, self: boolean): void {
    this.maxRingSeqSeen = Math.max(this.maxRingSeqSeen, t.ringId.seq)
    if (this.state === "OPERATIONAL") {
      const ring = this.ring
      if (ringIdEquals(t.ringId, ring.ringId)) {
        if (!(self || senderId === ring.pred) || t.hop <= ring.lastHop) {
          this.env.counters.tokensDropped++
          return
        }
        if (t.phase === TokenPhase.RECOVERY) {
          // §6.8 step 7: the first visit of an installed member makes the token operational.
          t.phase = TokenPhase.OPERATIONAL
          t.recDone = 0
          t.recDoneId = 0
          t.ringTable = []
          t.rtr = []
        }
        if (ring.isStuck(t)) {
          // §11.3: I am the stuck daemon: exclude myself (a singleton forms at once).
          this.failRingMembers(() => true)
          this.gatherEnter([]) // a singleton forms at once (everyone else is failed)
          this.reach.selfQuarantine(this.env.now)
          this.env.counters.selfExclusions++
          return
        }
        ring.onToken(t)
        return
      }
    } else if (this.state === "RECOVERY") {
      const next = this.next!
      if (ringIdEquals(t.ringId, next.ringId)) {
        if (!(self || senderId === next.pred) || t.hop <= next.lastHop) {
          this.env.counters.tokensDropped++
          return
        }
        this.onRecoveryToken(t)
        return
      }
    }
    this.env.counters.tokensDropped++
  }

  /** A token of another ring (from `senderId`, incarnation `inc`): evidence per §6.12 / §11.1. */
  onForeignToken(q: ProcId, t: Token): void {
    const mine = this.state === "RECOVERY" ? this.next!.ringId : this.ring.ringId
    if (!ringIdEquals(t.ringId, mine) && (this.state === "OPERATIONAL" || this.state === "GATHER")) {
      if (ringIdEquals(t.ringId, this.ring.ringId)) return
      this.foreignEvidence(q, t.ringId)
    }
  }

  onProbe(q: ProcId, ringId: RingId): void {
    this.foreignEvidence(q, ringId)
  }

  onLeave(q: ProcId, ringId: RingId): void {
    const member = this.state === "OPERATIONAL" && ringIdEquals(ringId, this.ring.ringId) && this.ring.incarnationOf(q.id) === q.incarnation
    if (!member && !(this.state === "GATHER" && this.sets.hasProc(q))) return
    this.departed.set(q.id, { incarnation: q.incarnation, ringSeq: ringId.seq })
    this.sets.addFail(q) // failSet survives gatherEnter (§6.3 step 2)
    if (member) this.gatherEnter([])
    else this.gEnter()
  }

  /** §11.4: a packet from `(id, inc′)` while my ring or attempt holds `(id, inc)`, inc′ > inc. */
  onNewerIncarnation(q: ProcId): void {
    switch (this.state) {
      case "OPERATIONAL": {
        const inc = this.ring.incarnationOf(q.id)
        if (inc === undefined || inc >= q.incarnation) return
        this.gatherEnter([q]) // addProc moves (id, inc) to failSet
        return
      }
      case "GATHER":
        if (this.sets.proc.has(q.id) && this.sets.proc.get(q.id)! < q.incarnation) {
          this.sets.addProc(q)
          this.gEnter()
        }
        return
      case "COMMIT":
      case "RECOVERY":
        if (this.attempt?.members.some((m) => m.id === q.id && m.incarnation < q.incarnation)) {
          this.backOff()
          this.sets.addProc(q)
          this.gEnter()
        }
        return
    }
  }

  onTokenLoss(): void {
    if (this.state === "OPERATIONAL") {
      this.env.counters.tokenLosses++
      this.env.emit({ _tag: "Trace", event: { type: "tokenLoss", ringId: this.ring.ringId } })
      this.gatherEnter([])
    } else if (this.state === "RECOVERY") this.backOff()
  }

  /** §6.13: LEAVE three times, then the driver exits. */
  shutdown(): void {
    if (this.state === "OPERATIONAL" && this.ring.ringSize > 1) {
      const bytes = encodeLeave(this.env.stamp, this.ring.ringId)
      for (let i = 0; i < LEAVE_COPIES; i++) this.env.emit({ _tag: "SendMulticast", scope: "RING", channel: "DATA", bytes })
    }
    this.ring.stopTimers()
    this.next?.stopTimers()
    for (const t of ["Join", "Consensus", "Commit", "Probe"] as const) this.env.cancelTimer(t)
  }

  // ---------------------------------------------------------------------------------------------
  // probes (§6.12, R6 item 3)

  private armProbe(): void {
    const now = this.env.now
    let due = Infinity
    for (const id of this.env.configuredIds) {
      if (this.ring.isMember(id)) continue
      let p = this.probes.get(id)
      if (p === undefined) {
        p = { interval: this.cfg.timeouts.probeMin, nextAt: now + this.cfg.timeouts.probeMin }
        this.probes.set(id, p)
      }
      due = Math.min(due, p.nextAt)
    }
    if (due < Infinity) this.env.setTimer("Probe", Math.max(0, due - now))
  }

  onProbeTimer(): void {
    if (this.state !== "OPERATIONAL" || !this.ring.isLeader) return
    const now = this.env.now
    const bytes = encodeProbe(this.env.stamp, this.ring.ringId, this.ring.members)
    const silent = this.reach.isSelfQuarantined(now) // R4 item 2: no probes while self-quarantined
    for (const [id, p] of this.probes) {
      if (this.ring.isMember(id) || p.nextAt > now) continue
      if (silent || this.reach.isQuarantined(id, now)) {
        p.nextAt = now + p.interval // R4 items 1–2: not now; look again later
        continue
      }
      this.env.emit({ _tag: "SendUnicast", to: id, channel: "DATA", bytes })
      p.interval = Math.min(p.interval * 2, this.cfg.timeouts.probeMax)
      p.nextAt = now + p.interval
    }
    this.armProbe()
  }
}
