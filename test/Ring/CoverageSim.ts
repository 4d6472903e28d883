/**
 * Coverage of the state × event table of daemon-protocol §6.15 by the simulator (test/Ring/Sim.ts).
 *
 * The table is encoded as data: one {@link Cell} per row, with its state, event, condition and
 * next state as the spec writes them, and a classifier that decides from what is observable
 * around one engine step whether the step falls into that row:
 *
 * - the engine state before and after the step;
 * - the input: for a packet, its type (byte 3 of the header, §4.1) and the decoded body (which
 *   ring it names: my ring, my old ring during RECOVERY, the new ring, another ring; the token
 *   phase; the COMMIT phase; the sender's incarnation against my ring); for a timer, its name; a
 *   `SelfHandoff` fire counts as the TOKEN or COMMIT it hands back (§6.11.1: "handled exactly as a
 *   received packet");
 * - read-only peeks at the engine's state before the step (leader, holding the token, frozen,
 *   the attempt, the section, saved copies and their retransmission budgets) and counters;
 * - the outputs (a token or commit token sent, a JOIN sent, a timer re-armed).
 *
 * A step that matches a row's state, event and condition but whose next state (or visible
 * effect) contradicts the row is a *deviation*; the test asserts there are none. Steps that match
 * no row are "unlisted" (§6.15: drop and count) and are only reported.
 */
import { type Commit, CommitPhase } from "../../src/Protocol/Ring/CommitPacket.js"
import type { CommonHeader } from "../../src/Protocol/Ring/Header.js"
import { decodeRingPacket, type RingPacketBody } from "../../src/Protocol/Ring/index.js"
import type { Join, ProcId } from "../../src/Protocol/Ring/JoinPacket.js"
import { compareRingId, type RingId, ringIdEquals } from "../../src/Protocol/Ring/RingId.js"
import { type Token, TokenPhase } from "../../src/Protocol/Ring/TokenPacket.js"
import type { SelfItem } from "../../src/Membership/Ring/Env.js"
import type { Ordering } from "../../src/Membership/Ring/Ordering.js"
import type { ProcSets } from "../../src/Membership/Ring/ProcSets.js"
import type { RingConfig } from "../../src/Membership/Ring/RingConfig.js"
import { type EngineState, RingEngine } from "../../src/Membership/Ring/RingEngine.js"
import type { RingInput, RingOutput, TimerName } from "../../src/Membership/Ring/Types.js"
import { Heap } from "./Heap.js"

// -------------------------------------------------------------------------------------------------
// Read-only peeks at private engine state (tests only; nothing is written).

const peek = <T>(o: object, key: string): T => (o as unknown as Record<string, T>)[key]!

interface Attempt {
  readonly newRing: RingId
  readonly members: ReadonlyArray<ProcId>
  readonly setsKey: string
  readonly sets: ProcSets
}

// -------------------------------------------------------------------------------------------------
// The effective event of a step

export type Effective =
  | {
    readonly kind: "packet"
    readonly type: number
    /** Undefined for a self-hand-off (§6.11.1): the packet comes from myself. */
    readonly header: CommonHeader | undefined
    readonly body: RingPacketBody
    readonly self: boolean
  }
  | { readonly kind: "timer"; readonly name: TimerName }
  | { readonly kind: "shutdown" }
  /** §9.5: the engine's `Reconfigure` input (the driver re-read the file on a monitor RELOAD). */
  | { readonly kind: "reload" }
  | { readonly kind: "other"; readonly what: string }

/** What the classifiers read of the engine before the step (copied: the step mutates the engine). */
export interface Pre {
  readonly ringId: RingId
  readonly ringMembers: ReadonlyArray<number>
  readonly ringIncarnations: ReadonlyArray<number>
  readonly ringPred: number
  readonly ringLastHop: number
  readonly isLeader: boolean
  readonly holding: boolean
  readonly frozen: boolean
  readonly ringSavedToken: boolean
  readonly ringRetransmitsLeft: number
  readonly nextRingId: RingId | undefined
  readonly nextPred: number | undefined
  readonly nextLastHop: number
  readonly nextSavedToken: boolean
  readonly nextRetransmitsLeft: number
  readonly attempt: Attempt | undefined
  readonly lastCommitSeq: number
  readonly lastCommitHop: number
  readonly savedCommit: boolean
  readonly commitRetransmitsLeft: number
  readonly recComplete: boolean
  readonly sectionHighSeq: number | undefined
  readonly holes: ReadonlySet<number>
  /** `sets.live()` (COMMIT COLLECT acceptance, §6.6 step 1). */
  readonly live: ReadonlyArray<ProcId>
  /** For a packet from q: q's pair is in my procSet / my failSet / older than one I know. */
  readonly senderInProcSet: boolean
  readonly senderIdInProcSet: boolean
  readonly senderFailedOrStale: boolean
  readonly senderQuarantined: boolean
  readonly selfQuarantined: boolean
  /** §11.4 `maxInc[sender]`. */
  readonly senderMaxInc: number
  /** For a DATA packet: its seq already held in the ring it names. */
  readonly dataHeld: boolean
  readonly tokensAccepted: number
  readonly selfExclusions: number
  readonly invariantViolations: number
}

export interface Step {
  readonly daemon: number
  readonly engine: RingEngine
  readonly input: RingInput
  readonly ev: Effective
  readonly before: EngineState
  readonly after: EngineState
  readonly pre: Pre
  readonly outs: ReadonlyArray<RingOutput>
}

// -------------------------------------------------------------------------------------------------
// Helpers over a step

const ringOfDataOrControl = (b: RingPacketBody): RingId | undefined => {
  switch (b._tag) {
    case "DATA":
      return b.data.ringId
    case "TOKEN":
      return b.token.ringId
    case "TOKEN_REQUEST":
    case "LEAVE":
    case "PROBE":
      return b.ringId
    default:
      return undefined
  }
}

const pkt = (s: Step) => (s.ev.kind === "packet" ? s.ev : undefined)
const tok = (s: Step): Token | undefined => {
  const p = pkt(s)
  return p !== undefined && p.body._tag === "TOKEN" ? p.body.token : undefined
}
const commitOf = (s: Step): Commit | undefined => {
  const p = pkt(s)
  return p !== undefined && p.body._tag === "COMMIT" ? p.body.commit : undefined
}
const joinOf = (s: Step): Join | undefined => {
  const p = pkt(s)
  return p !== undefined && p.body._tag === "JOIN" ? p.body.join : undefined
}
const dataSeq = (s: Step): number => (pkt(s)!.body as Extract<RingPacketBody, { _tag: "DATA" }>).data.seq
const sender = (s: Step): ProcId | undefined => {
  const h = pkt(s)?.header
  return h === undefined ? undefined : { id: h.senderId, incarnation: h.senderIncarnation }
}
/**
 * The packet passes the §4.1/§11.4 checks the simulator can fail: a stale incarnation, and
 * (with reloads, §9.5) another configuration hash or a sender that is not configured here.
 */
const accepted = (s: Step): boolean => {
  const p = pkt(s)
  if (p === undefined) return false
  const h = p.header
  return h === undefined ||
    (h.senderIncarnation >= s.pre.senderMaxInc && h.configHash === s.engine.config.configHash && s.engine.configuredRank(h.senderId) !== undefined)
}
const isTimer = (s: Step, name: TimerName): boolean => s.ev.kind === "timer" && s.ev.name === name
const ringIncOf = (pre: Pre, id: number): number | undefined => {
  const i = pre.ringMembers.indexOf(id)
  return i < 0 ? undefined : pre.ringIncarnations[i]
}
/** §11.4: the sender is `(id, inc′)` while my ring holds `(id, inc)` with `inc′ > inc`. */
const newerIncarnationOfMember = (s: Step): boolean => {
  const q = sender(s)
  if (q === undefined || !accepted(s)) return false
  const inc = ringIncOf(s.pre, q.id)
  return inc !== undefined && q.incarnation > inc
}
const senderIsRingMember = (s: Step): boolean => {
  const q = sender(s)
  return q !== undefined && ringIncOf(s.pre, q.id) === q.incarnation
}
const senderIsAttemptMember = (s: Step): boolean => {
  const q = sender(s)
  return q !== undefined && s.pre.attempt !== undefined && s.pre.attempt.members.some((m) => m.id === q.id && m.incarnation === q.incarnation)
}
const isMe = (s: Step, p: { readonly id: number; readonly incarnation: number } | undefined): boolean =>
  p !== undefined && p.id === s.engine.myId && p.incarnation === s.engine.incarnation
const sentTokenType = (s: Step, type: number): boolean =>
  s.outs.some((o) => o._tag === "SendUnicast" && o.channel === "TOKEN" && o.bytes[3] === type)
const sentJoin = (s: Step): boolean => s.outs.some((o) => o._tag === "SendMulticast" && o.bytes[3] === 0x10)
/** A token goes on: unicast to the successor, or a self-hand-off (§6.11.1). */
const forwardedToken = (s: Step): boolean =>
  sentTokenType(s, 0x02) || s.outs.some((o) => o._tag === "SetTimer" && o.timer === "SelfHandoff")
/** §6.9 "gave up" (with R3 item 2): the join's sender cannot accept the attempt any more. */
const gaveUp = (s: Step): boolean => {
  const j = joinOf(s)
  const a = s.pre.attempt
  if (j === undefined || a === undefined) return false
  const k = a.sets.normalizedKey(j.procSet, j.failSet)
  return j.maxRingSeqSeen >= a.newRing.seq || (k !== a.setsKey && !a.sets.contains(j.procSet, j.failSet))
}
/** §6.4: a join that OPERATIONAL ignores as stale (with R4's quarantine and self-quarantine). */
const staleJoin = (s: Step): boolean => {
  const j = joinOf(s)!
  const q = sender(s)!
  const iAmFailed = j.failSet.some((p) => isMe(s, p))
  return s.pre.senderQuarantined || s.pre.selfQuarantined || iAmFailed ||
    (ringIncOf(s.pre, q.id) === q.incarnation && j.oldRing.seq < s.pre.ringId.seq)
}
/** §6.6 COLLECT step 1 (the parts that do not depend on the state). */
const collectAcceptable = (s: Step, c: Commit): boolean => {
  const m = c.members[c.index]
  if (!isMe(s, m)) return false
  const live = s.pre.live
  if (live.length !== c.members.length || live.some((p, i) => p.id !== c.members[i]!.id || p.incarnation !== c.members[i]!.incarnation)) return false
  return c.newRing.seq > Math.max(s.pre.ringId.seq, s.pre.lastCommitSeq)
}
const tokenValidFor = (s: Step, pred: number | undefined, lastHop: number): boolean => {
  const t = tok(s)!
  const p = pkt(s)!
  return (p.self || p.header?.senderId === pred) && t.hop > lastHop
}

const GATHER_ENTRY: ReadonlyArray<EngineState> = ["GATHER", "COMMIT"]

/** The §9.5 outcome the engine traced in this step. */
const reloadOutcome = (s: Step): string => {
  for (const o of s.outs) if (o._tag === "Trace" && o.event.type === "reload") return o.event.outcome
  return "none"
}
const reconfigured = (s: Step): boolean => s.outs.some((o) => o._tag === "Reconfigured")
/** §9.5's action for the outcome: settings adopted, nothing (refused), `gatherEnter`, or exit. */
const reloadActed = (s: Step): boolean => {
  switch (reloadOutcome(s)) {
    case "settings":
      return s.after === "OPERATIONAL" && reconfigured(s)
    case "refused":
      return s.after === "OPERATIONAL" && !reconfigured(s)
    case "membership":
    case "isolate":
      return GATHER_ENTRY.includes(s.after) && reconfigured(s) && sentJoin(s)
    case "fatal":
      return s.after === "EXITED" && s.outs.some((o) => o._tag === "Exit" && o.code !== 0)
    default:
      return false
  }
}

// -------------------------------------------------------------------------------------------------
// The table

export interface Cell {
  readonly id: string
  readonly state: string
  readonly event: string
  readonly condition: string
  /** The row's next state as §6.15 writes it. */
  readonly next: string
  /**
   * The after-states consistent with the row. Rows whose action enters GATHER also allow COMMIT:
   * every (re-)entry into GATHER ends with the consensus check (§6.3, §6.4 J2), which creates the
   * commit token at once when `procSet − failSet` is `{me}` or everyone already agreed.
   */
  readonly allowed: ReadonlyArray<EngineState>
  /** State before, event and condition. */
  readonly match?: (s: Step) => boolean
  /** The row's action, as far as it is visible in the outputs or the engine after the step. */
  readonly effect?: (s: Step) => boolean
  /** Sub-classification reported with the counts. */
  readonly variant?: (s: Step) => string
  /** Why the row cannot occur in the engine as designed (no classifier then). */
  readonly excluded?: string
  /**
   * Why the row cannot occur while every daemon follows the protocol (a defensive path): it is
   * reached only by runs that inject a misbehaving peer, and must never be reached otherwise.
   */
  readonly defensive?: string
}

const O = (s: Step) => s.before === "OPERATIONAL"
const G = (s: Step) => s.before === "GATHER"
const C = (s: Step) => s.before === "COMMIT"
const R = (s: Step) => s.before === "RECOVERY"
const src = (s: Step) => (pkt(s)?.self === true ? "self-hand-off" : "network")

/**
 * The rows of §6.15, in the table's order. Classification takes the first matching row, so the
 * order also sets precedence where rows overlap (the §11.4 incarnation row comes first: the
 * engine's acceptance check runs before any per-type handling; the stall rule before the token
 * row it is part of).
 */
export const CELLS: ReadonlyArray<Cell> = [
  {
    id: "O.newer-incarnation", state: "OPERATIONAL", event: "any packet from (id, inc′), (id, inc) in my ring, inc′ > inc", condition: "—",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => O(s) && newerIncarnationOfMember(s),
    variant: (s) => pkt(s)!.body._tag
  },
  {
    id: "O.stall", state: "OPERATIONAL", event: "stall rule", condition: "I am the stuck daemon",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => O(s) && tok(s) !== undefined && s.engine.counters.selfExclusions > s.pre.selfExclusions
  },
  {
    id: "O.token-mine", state: "OPERATIONAL", event: "TOKEN (my ring)", condition: "valid",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => O(s) && accepted(s) && tok(s) !== undefined && ringIdEquals(tok(s)!.ringId, s.pre.ringId) &&
      tokenValidFor(s, s.pre.ringPred, s.pre.ringLastHop),
    variant: (s) => `${src(s)}${tok(s)!.phase === TokenPhase.RECOVERY ? ", first visit after install (RECOVERY → OPERATIONAL phase)" : ""}`
  },
  {
    id: "O.token-other", state: "OPERATIONAL", event: "TOKEN other ring", condition: "—",
    next: "OPERATIONAL / GATHER", allowed: ["OPERATIONAL", "GATHER", "COMMIT"],
    match: (s) => O(s) && accepted(s) && pkt(s)?.self === false && tok(s) !== undefined && !ringIdEquals(tok(s)!.ringId, s.pre.ringId),
    variant: (s) => s.after === "OPERATIONAL" ? "dropped (no foreign evidence)" : "foreign evidence → gatherEnter"
  },
  {
    id: "O.data-mine", state: "OPERATIONAL", event: "DATA my ring", condition: "—",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => O(s) && accepted(s) && pkt(s)?.body._tag === "DATA" && ringIdEquals(ringOfDataOrControl(pkt(s)!.body)!, s.pre.ringId),
    variant: (s) => (s.pre.dataHeld ? "duplicate" : "new")
  },
  {
    id: "O.foreign", state: "OPERATIONAL", event: "DATA/PROBE foreign", condition: "§6.12 conditions",
    next: "GATHER", allowed: GATHER_ENTRY,
    // The §6.12 conditions (quarantine, a late packet of an older ring from a member) are
    // judged by the engine; the gatherEnter is the evidence that they held.
    match: (s) => O(s) && accepted(s) && (pkt(s)?.body._tag === "DATA" || pkt(s)?.body._tag === "PROBE") &&
      !ringIdEquals(ringOfDataOrControl(pkt(s)!.body)!, s.pre.ringId) && s.after !== "OPERATIONAL",
    variant: (s) => pkt(s)!.body._tag
  },
  {
    id: "O.join", state: "OPERATIONAL", event: "JOIN", condition: "not stale (§6.4)",
    next: "GATHER / COMMIT", allowed: GATHER_ENTRY,
    match: (s) => O(s) && accepted(s) && joinOf(s) !== undefined && !staleJoin(s),
    effect: (s) => sentJoin(s) || s.after === "COMMIT"
  },
  {
    id: "O.leave", state: "OPERATIONAL", event: "LEAVE from member", condition: "—",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => {
      const p = pkt(s)
      return O(s) && accepted(s) && p?.body._tag === "LEAVE" && ringIdEquals(p.body.ringId, s.pre.ringId) && senderIsRingMember(s)
    }
  },
  {
    id: "O.token-request-holding", state: "OPERATIONAL", event: "TOKEN_REQUEST", condition: "I hold the token",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => {
      const p = pkt(s)
      return O(s) && accepted(s) && p?.body._tag === "TOKEN_REQUEST" && ringIdEquals(p.body.ringId, s.pre.ringId) && s.pre.isLeader && s.pre.holding
    },
    effect: forwardedToken
  },
  {
    id: "O.token-request-not-holding", state: "OPERATIONAL", event: "TOKEN_REQUEST", condition: "leader, not holding",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => {
      const p = pkt(s)
      return O(s) && accepted(s) && p?.body._tag === "TOKEN_REQUEST" && ringIdEquals(p.body.ringId, s.pre.ringId) && s.pre.isLeader && !s.pre.holding
    },
    effect: (s) => peek<boolean>(s.engine.membership.ring, "pendingTokenRequest") && !forwardedToken(s)
  },
  {
    id: "O.timer-token-loss", state: "OPERATIONAL", event: "timer TokenLoss", condition: "—",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => O(s) && isTimer(s, "TokenLoss")
  },
  {
    id: "O.timer-token-retransmit", state: "OPERATIONAL", event: "timer TokenRetransmit", condition: "retries left",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => O(s) && isTimer(s, "TokenRetransmit") && s.pre.ringSavedToken && s.pre.ringRetransmitsLeft > 0,
    effect: (s) => sentTokenType(s, 0x02)
  },
  {
    id: "O.timer-token-hold", state: "OPERATIONAL", event: "timer TokenHold", condition: "leader holding",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => O(s) && isTimer(s, "TokenHold") && s.pre.isLeader && s.pre.holding,
    effect: forwardedToken,
    variant: (s) => (sentTokenType(s, 0x02) ? "network" : "self-hand-off")
  },
  {
    id: "O.timer-probe", state: "OPERATIONAL", event: "timer Probe", condition: "leader",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => O(s) && isTimer(s, "Probe") && s.pre.isLeader,
    effect: (s) => s.outs.some((o) => o._tag === "SetTimer" && o.timer === "Probe"),
    variant: (s) => (s.outs.some((o) => o._tag === "SendUnicast" && o.bytes[3] === 0x12) ? "probes sent" : "none due (quarantine / back-off)")
  },
  {
    // The monitor packet stays in the driver (src/Daemon/MonitorPort.ts), which re-reads the file
    // and feeds the engine `Reconfigure`; a reload that arrived outside OPERATIONAL comes back
    // as the `Reload` timer right after the install. EXITED: my own identity changed (§9.5).
    id: "O.monitor-reload", state: "OPERATIONAL", event: "monitor RELOAD", condition: "—",
    next: "OPERATIONAL / GATHER", allowed: ["OPERATIONAL", ...GATHER_ENTRY, "EXITED"],
    match: (s) => O(s) && (s.ev.kind === "reload" || isTimer(s, "Reload")),
    effect: reloadActed,
    variant: (s) => `${reloadOutcome(s)}${s.ev.kind === "reload" ? "" : " (deferred until the install)"}`
  },
  {
    id: "G.join", state: "GATHER", event: "JOIN", condition: "—",
    next: "GATHER / COMMIT", allowed: GATHER_ENTRY,
    match: (s) => G(s) && accepted(s) && joinOf(s) !== undefined,
    variant: (s) => (s.after === "COMMIT" ? "consensus → commit token" : sentJoin(s) ? "sets changed → G-enter" : "no change")
  },
  {
    id: "G.commit-collect", state: "GATHER", event: "COMMIT COLLECT", condition: "acceptance rule",
    next: "COMMIT", allowed: ["COMMIT"],
    match: (s) => G(s) && accepted(s) && commitOf(s)?.phase === CommitPhase.COLLECT && collectAcceptable(s, commitOf(s)!),
    effect: (s) => sentTokenType(s, 0x11) || s.outs.some((o) => o._tag === "SetTimer" && o.timer === "SelfHandoff")
  },
  {
    id: "G.data-old", state: "GATHER", event: "DATA old ring", condition: "not frozen",
    next: "GATHER", allowed: ["GATHER"],
    match: (s) => G(s) && accepted(s) && pkt(s)?.body._tag === "DATA" && ringIdEquals(ringOfDataOrControl(pkt(s)!.body)!, s.pre.ringId) &&
      s.pre.ringId.seq > 0 && !s.pre.frozen,
    // Store, no delivery (the gate is closed in GATHER).
    effect: (s) => !s.outs.some((o) => o._tag === "Deliver"),
    variant: (s) => (s.pre.dataHeld ? "duplicate" : s.engine.membership.ring.holds(dataSeq(s)) ? "stored" : "refused (not a member / beyond the window)")
  },
  {
    id: "G.foreign", state: "GATHER", event: "foreign evidence", condition: "sender ∉ procSet, not in quarantine",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => {
      const p = pkt(s)
      if (!G(s) || !accepted(s) || p === undefined || p.self) return false
      if (p.body._tag !== "DATA" && p.body._tag !== "TOKEN" && p.body._tag !== "PROBE") return false
      const r = ringOfDataOrControl(p.body)!
      // DATA of my ring, of my old ring, or a token of my ring are not foreign evidence.
      if (ringIdEquals(r, s.pre.ringId)) return false
      return !s.pre.senderInProcSet && !s.pre.senderFailedOrStale && !s.pre.senderQuarantined
    },
    effect: (s) => {
      const q = sender(s)!
      return s.engine.membership.sets.proc.get(q.id) === q.incarnation && sentJoin(s)
    },
    variant: (s) => `${pkt(s)!.body._tag}${s.pre.senderIdInProcSet ? " (newer incarnation)" : ""}`
  },
  {
    id: "G.leave", state: "GATHER", event: "LEAVE", condition: "sender ∈ procSet",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => G(s) && accepted(s) && pkt(s)?.body._tag === "LEAVE" && s.pre.senderInProcSet,
    effect: (s) => s.engine.membership.sets.isFailed(sender(s)!)
  },
  {
    id: "G.timer-join", state: "GATHER", event: "timer Join", condition: "—",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => G(s) && isTimer(s, "Join"),
    effect: (s) => sentJoin(s) && s.outs.some((o) => o._tag === "SetTimer" && o.timer === "Join")
  },
  {
    id: "G.timer-consensus", state: "GATHER", event: "timer Consensus", condition: "—",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => G(s) && isTimer(s, "Consensus"),
    variant: (s) => (s.engine.membership.sets.failList().length > 0 && s.after !== "COMMIT" ? "failed the missing / representative" : "R3: everyone agreed, wait another round")
  },
  {
    id: "C.commit-install", state: "COMMIT", event: "COMMIT INSTALL", condition: "matches my attempt",
    next: "RECOVERY", allowed: ["RECOVERY"],
    match: (s) => {
      const c = commitOf(s)
      const a = s.pre.attempt
      return C(s) && accepted(s) && c?.phase === CommitPhase.INSTALL && a !== undefined && ringIdEquals(c.newRing, a.newRing) &&
        c.hop > s.pre.lastCommitHop && c.index < c.members.length && isMe(s, c.members[c.index])
    },
    variant: src
  },
  {
    id: "C.commit-collect-newer", state: "COMMIT", event: "COMMIT COLLECT of a newer ring", condition: "acceptance rule vs my procSet",
    next: "COMMIT", allowed: ["COMMIT"],
    match: (s) => {
      const c = commitOf(s)
      const a = s.pre.attempt
      return C(s) && accepted(s) && c?.phase === CommitPhase.COLLECT && a !== undefined && compareRingId(c.newRing, a.newRing) > 0 && isMe(s, c.members[c.index])
    },
    effect: (s) => !sentTokenType(s, 0x11),
    variant: (s) => (collectAcceptable(s, commitOf(s)!) ? "members = my procSet − failSet" : "members differ")
  },
  {
    id: "C.join-gave-up", state: "COMMIT", event: "JOIN from attempt member", condition: "gave up",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => C(s) && accepted(s) && joinOf(s) !== undefined && senderIsAttemptMember(s) && gaveUp(s),
    effect: sentJoin
  },
  {
    id: "C.timer-commit", state: "COMMIT", event: "timer Commit", condition: "—",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => C(s) && isTimer(s, "Commit"),
    effect: sentJoin
  },
  {
    id: "C.timer-token-retransmit", state: "COMMIT", event: "timer TokenRetransmit", condition: "—",
    next: "COMMIT", allowed: ["COMMIT"],
    match: (s) => C(s) && isTimer(s, "TokenRetransmit") && s.pre.savedCommit && s.pre.commitRetransmitsLeft > 0,
    effect: (s) => sentTokenType(s, 0x11)
  },
  {
    id: "R.token-recovery", state: "RECOVERY", event: "TOKEN new ring, phase RECOVERY", condition: "valid",
    next: "RECOVERY / OPERATIONAL", allowed: ["RECOVERY", "OPERATIONAL"],
    match: (s) => {
      const t = tok(s)
      return R(s) && accepted(s) && t !== undefined && s.pre.nextRingId !== undefined && ringIdEquals(t.ringId, s.pre.nextRingId) &&
        t.phase === TokenPhase.RECOVERY && tokenValidFor(s, s.pre.nextPred, s.pre.nextLastHop)
    },
    variant: (s) => `${src(s)}, ${s.after === "OPERATIONAL" ? "installed (doneStreak 2)" : "still recovering"}`
  },
  {
    defensive: "§6.7 step 8: a member installs only after forwarding recDone = 1 twice, so every other member has installed before any member makes the token OPERATIONAL (§6.8 step 7)",
    id: "R.token-operational-complete", state: "RECOVERY", event: "TOKEN new ring, phase OPERATIONAL", condition: "valid, I am complete",
    next: "OPERATIONAL", allowed: ["OPERATIONAL"],
    match: (s) => {
      const t = tok(s)
      return R(s) && accepted(s) && t !== undefined && s.pre.nextRingId !== undefined && ringIdEquals(t.ringId, s.pre.nextRingId) &&
        t.phase === TokenPhase.OPERATIONAL && tokenValidFor(s, s.pre.nextPred, s.pre.nextLastHop) && s.pre.recComplete
    },
    effect: (s) => s.outs.some((o) => o._tag === "Install" && o.kind === "REG")
  },
  {
    defensive: "as above; besides, recDone = 1 through a whole rotation means every member was complete (§6.7 step 8)",
    id: "R.token-operational-incomplete", state: "RECOVERY", event: "TOKEN new ring, phase OPERATIONAL", condition: "valid, I am not complete",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => {
      const t = tok(s)
      return R(s) && accepted(s) && t !== undefined && s.pre.nextRingId !== undefined && ringIdEquals(t.ringId, s.pre.nextRingId) &&
        t.phase === TokenPhase.OPERATIONAL && tokenValidFor(s, s.pre.nextPred, s.pre.nextLastHop) && !s.pre.recComplete
    },
    effect: (s) => s.engine.counters.invariantViolations > s.pre.invariantViolations && sentJoin(s)
  },
  {
    id: "R.commit-install-back", state: "RECOVERY", event: "COMMIT INSTALL back at representative", condition: "I am members[0]",
    next: "RECOVERY", allowed: ["RECOVERY"],
    match: (s) => {
      const c = commitOf(s)
      const a = s.pre.attempt
      return R(s) && accepted(s) && c?.phase === CommitPhase.INSTALL && a !== undefined && ringIdEquals(c.newRing, a.newRing) &&
        c.hop > s.pre.lastCommitHop && c.index === c.members.length && isMe(s, c.members[0]) && s.pre.nextLastHop === 0
    },
    effect: (s) => s.engine.counters.tokensAccepted > s.pre.tokensAccepted && forwardedToken(s),
    variant: src
  },
  {
    id: "R.data-old", state: "RECOVERY", event: "DATA old ring", condition: "requested, not hole",
    next: "RECOVERY", allowed: ["RECOVERY"],
    match: (s) => {
      const p = pkt(s)
      if (!R(s) || !accepted(s) || p?.body._tag !== "DATA" || !ringIdEquals(p.body.data.ringId, s.pre.ringId) || s.pre.ringId.seq === 0) return false
      const seq = p.body.data.seq
      return !s.pre.dataHeld && s.pre.sectionHighSeq !== undefined && seq <= s.pre.sectionHighSeq && !s.pre.holes.has(seq)
    },
    effect: (s) => s.engine.membership.ring.holds(dataSeq(s)),
    variant: (s) => ((pkt(s)!.header!.flags & 0x2) !== 0 ? "retransmission (answering a request)" : "late original")
  },
  {
    defensive: "§6.15 itself: by the two-rotation argument of §6.7 nobody sends in the new ring before every member has installed (a new-ring DATA is caused by an OPERATIONAL token, which follows every install)",
    id: "R.data-new", state: "RECOVERY", event: "DATA new ring", condition: "—",
    next: "RECOVERY", allowed: ["RECOVERY"],
    match: (s) => {
      const p = pkt(s)
      return R(s) && accepted(s) && p?.body._tag === "DATA" && s.pre.nextRingId !== undefined && ringIdEquals(p.body.data.ringId, s.pre.nextRingId)
    }
  },
  {
    id: "R.join-gave-up", state: "RECOVERY", event: "JOIN from new-ring member", condition: "gave up",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => R(s) && accepted(s) && joinOf(s) !== undefined && senderIsAttemptMember(s) && gaveUp(s),
    effect: sentJoin
  },
  {
    id: "R.timer-token-loss", state: "RECOVERY", event: "timer TokenLoss", condition: "—",
    next: "GATHER", allowed: GATHER_ENTRY,
    match: (s) => R(s) && isTimer(s, "TokenLoss"),
    effect: sentJoin
  },
  {
    id: "R.timer-token-retransmit", state: "RECOVERY", event: "timer TokenRetransmit", condition: "retries left",
    next: "RECOVERY", allowed: ["RECOVERY"],
    match: (s) => R(s) && isTimer(s, "TokenRetransmit") &&
      ((s.pre.nextSavedToken && s.pre.nextRetransmitsLeft > 0) || (!s.pre.nextSavedToken && s.pre.savedCommit && s.pre.commitRetransmitsLeft > 0)),
    effect: (s) => sentTokenType(s, s.pre.nextSavedToken ? 0x02 : 0x11),
    variant: (s) => (s.pre.nextSavedToken ? "recovery token" : "INSTALL commit token")
  },
  {
    id: "any.shutdown", state: "any", event: "Shutdown", condition: "—",
    next: "exit", allowed: ["EXITED"],
    match: (s) => s.ev.kind === "shutdown" && s.before !== "EXITED",
    effect: (s) => s.outs.some((o) => o._tag === "Exit") &&
      (s.before !== "OPERATIONAL" || s.pre.ringMembers.length === 1 || s.outs.filter((o) => o._tag === "SendMulticast" && o.bytes[3] === 0x13).length === 3),
    variant: (s) => s.before
  },
  {
    id: "any.monitor", state: "any", event: "monitor packet", condition: "—",
    next: "same", allowed: [],
    excluded: "monitor packets (0x20–0x25) never reach the engine: the driver routes them to src/Daemon/MonitorPort.ts (§10) and `readCommonHeader` refuses them, so they are covered by the monitor tests, not here"
  }
]

// -------------------------------------------------------------------------------------------------
// Recording

const effectiveEvent = (engine: RingEngine, input: RingInput): Effective => {
  switch (input._tag) {
    case "PacketReceived": {
      const r = decodeRingPacket(input.bytes)
      if (!r.ok) return { kind: "other", what: `undecodable packet (${r.reason})` }
      return { kind: "packet", type: r.header.type, header: r.header, body: r.body, self: false }
    }
    case "TimerFired": {
      const armed = peek<Set<TimerName>>(engine, "armed")
      const gen = peek<Map<TimerName, number>>(engine, "timerGen")
      if (!armed.has(input.timer) || gen.get(input.timer) !== input.generation) return { kind: "other", what: `stale timer ${input.timer}` }
      if (input.timer !== "SelfHandoff") return { kind: "timer", name: input.timer }
      const item = peek<Array<SelfItem>>(engine, "selfQueue")[0]
      if (item === undefined) return { kind: "other", what: "empty SelfHandoff" }
      // Copy: the step mutates the item.
      return item._tag === "TOKEN"
        ? { kind: "packet", type: 0x02, header: undefined, body: { _tag: "TOKEN", token: { ...item.token } }, self: true }
        : { kind: "packet", type: 0x11, header: undefined, body: { _tag: "COMMIT", commit: { ...item.commit, members: [...item.commit.members] } }, self: true }
    }
    case "Shutdown":
      return { kind: "shutdown" }
    case "Reconfigure":
      return { kind: "reload" }
    default:
      return { kind: "other", what: input._tag }
  }
}

const NO_HOLES: ReadonlySet<number> = new Set()

const preOf = (engine: RingEngine, ev: Effective): Pre => {
  const m = engine.membership
  const booted = engine.state !== "BOOT" && engine.state !== "EXITED"
  const ring: Ordering | undefined = booted ? m.ring : undefined
  const next: Ordering | undefined = booted ? m.next : undefined
  const header = ev.kind === "packet" ? ev.header : undefined
  const q = header === undefined ? undefined : { id: header.senderId, incarnation: header.senderIncarnation }
  const now = engine.now
  let dataHeld = false
  if (ev.kind === "packet" && ev.body._tag === "DATA" && ring !== undefined) {
    const d = ev.body.data
    const target = next !== undefined && ringIdEquals(d.ringId, next.ringId) ? next : ring
    dataHeld = target.holds(d.seq)
  }
  const section = booted ? peek<{ highSeq: number } | undefined>(m, "section") : undefined
  return {
    ringId: ring?.ringId ?? { seq: -1, rep: 0 },
    ringMembers: ring?.members ?? [],
    ringIncarnations: ring?.memberIncarnations ?? [],
    ringPred: ring?.pred ?? 0,
    ringLastHop: ring?.lastHop ?? 0,
    isLeader: ring?.isLeader ?? false,
    holding: ring?.holding ?? false,
    frozen: ring?.frozen ?? false,
    ringSavedToken: ring?.hasSavedToken ?? false,
    ringRetransmitsLeft: ring === undefined ? 0 : peek<number>(ring, "retransmitsLeft"),
    nextRingId: next?.ringId,
    nextPred: next?.pred,
    nextLastHop: next?.lastHop ?? 0,
    nextSavedToken: next?.hasSavedToken ?? false,
    nextRetransmitsLeft: next === undefined ? 0 : peek<number>(next, "retransmitsLeft"),
    attempt: booted ? peek<Attempt | undefined>(m, "attempt") : undefined,
    lastCommitSeq: m.lastCommitSeq,
    lastCommitHop: peek<number>(m, "lastCommitHop"),
    savedCommit: peek<unknown>(m, "savedCommit") !== undefined,
    commitRetransmitsLeft: peek<number>(m, "commitRetransmitsLeft"),
    recComplete: peek<boolean>(m, "recComplete"),
    sectionHighSeq: section?.highSeq,
    holes: section === undefined ? NO_HOLES : new Set(peek<Set<number>>(m, "holes")),
    live: ev.kind === "packet" && ev.body._tag === "COMMIT" && booted ? m.sets.live() : [],
    senderInProcSet: q !== undefined && m.sets.hasProc(q),
    senderIdInProcSet: q !== undefined && m.sets.proc.has(q.id),
    senderFailedOrStale: q !== undefined && (m.sets.isFailed(q) || m.sets.isStale(q)),
    senderQuarantined: q !== undefined && m.reach.isQuarantined(q.id, now),
    selfQuarantined: m.reach.isSelfQuarantined(now),
    senderMaxInc: q === undefined ? 0 : peek<Map<number, number>>(engine, "maxInc").get(q.id) ?? 0,
    dataHeld,
    tokensAccepted: engine.counters.tokensAccepted,
    selfExclusions: engine.counters.selfExclusions,
    invariantViolations: engine.counters.invariantViolations
  }
}

const ringRel = (pre: Pre, r: RingId | undefined): string => {
  if (r === undefined) return ""
  if (ringIdEquals(r, pre.ringId)) return pre.nextRingId !== undefined ? " old ring" : " my ring"
  if (pre.nextRingId !== undefined && ringIdEquals(r, pre.nextRingId)) return " new ring"
  return " other ring"
}

/** A short label of an unclassified step, for the "unlisted" report. */
const labelOf = (s: Step): string => {
  const e = s.ev
  if (e.kind === "timer") return `${s.before} timer ${e.name}`
  if (e.kind === "shutdown") return `${s.before} Shutdown`
  if (e.kind === "reload") return `${s.before} monitor RELOAD (deferred until OPERATIONAL, §9.5)`
  if (e.kind === "other") return `${s.before} ${e.what}`
  const b = e.body
  let what: string = b._tag
  if (b._tag === "TOKEN") what += `${ringRel(s.pre, b.token.ringId)} ${b.token.phase === TokenPhase.RECOVERY ? "RECOVERY" : "OPERATIONAL"}`
  else if (b._tag === "COMMIT") {
    what += ` ${b.commit.phase === CommitPhase.COLLECT ? "COLLECT" : "INSTALL"}`
    const a = s.pre.attempt
    if (a !== undefined) {
      const cmp = compareRingId(b.commit.newRing, a.newRing)
      what += cmp === 0 ? " of my attempt" : cmp < 0 ? " of an older attempt" : " of a newer ring"
    }
    if (!isMe(s, b.commit.members[b.commit.index])) what += " (not my turn)"
  }
  else what += ringRel(s.pre, ringOfDataOrControl(b))
  if (!accepted(s)) what += " (not accepted: stale incarnation, other hash or not configured)"
  return `${s.before} ${what}${e.self ? " (self)" : ""}`
}

export interface Deviation {
  readonly cell: string
  readonly detail: string
}

/** How a run was made: the simulator as is, with a misbehaving peer injected, or a scripted network. */
export type RunKind = "simulation" | "injected" | "scripted"

/** Counts §6.15 cells over any number of simulator runs. */
export class CellCoverage {
  readonly hits = new Map<string, number>()
  /** Hits per run kind. */
  readonly hitsByKind = new Map<RunKind, Map<string, number>>()
  kind: RunKind = "simulation"
  readonly variants = new Map<string, Map<string, number>>()
  readonly unlisted = new Map<string, number>()
  readonly deviations: Array<Deviation> = []
  deviationCount = 0
  steps = 0
  /** Free text naming the current run (for deviation reports). */
  run = ""

  /** The `onStep` observer for {@link SimOptions}. */
  readonly onStep = (daemon: number, engine: RingEngine, input: RingInput, run: () => Array<RingOutput>): Array<RingOutput> => {
    const before = engine.state
    if (before === "BOOT" || before === "EXITED") return run()
    const ev = effectiveEvent(engine, input)
    if (ev.kind === "other") {
      const outs = run()
      this.count(this.unlisted, `${before} ${ev.what}`)
      return outs
    }
    const pre = preOf(engine, ev)
    const outs = run()
    this.classify({ daemon, engine, input, ev, before, after: engine.state, pre, outs })
    return outs
  }

  private count(m: Map<string, number>, k: string): void {
    m.set(k, (m.get(k) ?? 0) + 1)
  }

  private classify(s: Step): void {
    this.steps++
    const cell = CELLS.find((c) => c.match?.(s) === true)
    if (cell === undefined) {
      this.count(this.unlisted, labelOf(s))
      return
    }
    const okNext = cell.allowed.includes(s.after)
    const okEffect = cell.effect?.(s) ?? true
    if (!okNext || !okEffect) {
      this.deviationCount++
      if (this.deviations.length < 20) {
        this.deviations.push({
          cell: cell.id,
          detail: `${this.run} daemon ${s.daemon} t=${s.engine.now.toFixed(2)}: ${labelOf(s)} → ${s.after}${okEffect ? "" : " (action not seen in the outputs)"}`
        })
      }
      return
    }
    this.count(this.hits, cell.id)
    let byKind = this.hitsByKind.get(this.kind)
    if (byKind === undefined) this.hitsByKind.set(this.kind, (byKind = new Map()))
    this.count(byKind, cell.id)
    if (cell.variant !== undefined) {
      let v = this.variants.get(cell.id)
      if (v === undefined) this.variants.set(cell.id, (v = new Map()))
      this.count(v, cell.variant(s))
    }
  }

  /** A markdown table of the cells with their counts (and the exclusions). */
  table(): string {
    const kinds: ReadonlyArray<RunKind> = ["simulation", "injected", "scripted"]
    const lines = [
      "| cell | state | event | condition | next | hits: simulation / injected / scripted | variants |",
      "|---|---|---|---|---|---|---|"
    ]
    for (const c of CELLS) {
      const v = this.variants.get(c.id)
      const variants = v === undefined ? "" : [...v].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`).join("; ")
      const hits = c.excluded !== undefined
        ? `excluded: ${c.excluded}`
        : kinds.map((k) => this.hitsByKind.get(k)?.get(c.id) ?? 0).join(" / ") + (c.defensive !== undefined ? ` (defensive: ${c.defensive})` : "")
      lines.push(`| ${c.id} | ${c.state} | ${c.event} | ${c.condition} | ${c.next} | ${hits} | ${variants} |`)
    }
    return lines.join("\n")
  }

  unlistedReport(): string {
    return [...this.unlisted].sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${n.toString().padStart(8)}  ${k}`).join("\n")
  }
}

// -------------------------------------------------------------------------------------------------
// A scripted network for targeted schedules the simulator's network model cannot produce

/** What a {@link ScriptedNet} rule sees of one datagram at its send time. */
export interface Datagram {
  readonly from: number
  readonly to: number
  readonly channel: "DATA" | "TOKEN"
  /** Packet type (§4.1, header byte 3). */
  readonly type: number
  readonly bytes: Buffer
  readonly now: number
}

type NetEvent =
  | { at: number; order: number; kind: "packet"; to: number; from: number; channel: "DATA" | "TOKEN"; bytes: Buffer }
  | { at: number; order: number; kind: "timer"; to: number; timer: TimerName; generation: number }
  | { at: number; order: number; kind: "call"; f: () => void }

export const addressOf = (id: number): string => `10.0.${Math.floor(id / 250)}.${id % 250}`

/**
 * N engines on a network whose every datagram goes through `rule`: it returns the one-way delay
 * (ms) or `"drop"`. Per-packet delays (a datagram held back for a second, as behind a congested
 * queue) are what the simulator's uniform-delay model (test/Ring/Sim.ts) cannot express. No
 * clients, no logs: this is only for driving one schedule into a §6.15 cell.
 */
export class ScriptedNet {
  readonly engines = new Map<number, RingEngine>()
  now = 0
  private readonly queue: Heap<NetEvent> = new Heap()
  private readonly gens = new Map<string, number>()

  constructor(
    private readonly config: RingConfig,
    private readonly rule: (d: Datagram) => number | "drop",
    private readonly onStep?: (daemon: number, engine: RingEngine, input: RingInput, run: () => Array<RingOutput>) => Array<RingOutput>
  ) {}

  /** Starts every configured daemon in one formed ring (`fixedRing`, §3.1 Init). */
  startFixed(): this {
    const ids = this.config.daemons.map((d) => d.id)
    for (const id of ids) {
      const e = new RingEngine(this.config, id)
      this.engines.set(id, e)
      this.step(id, { _tag: "Init", now: 0, incarnation: 1, ringSeqFloor: 0, seed: id, fixedRing: ids.map((i) => ({ id: i, incarnation: 1 })) })
    }
    return this
  }

  at(t: number, f: () => void): void {
    this.queue.push({ at: t, order: 0, kind: "call", f })
  }

  shutdown(id: number): void {
    this.step(id, { _tag: "Shutdown", now: this.now })
    this.engines.delete(id)
  }

  run(until: number): this {
    for (;;) {
      const e = this.queue.peek()
      if (e === undefined || e.at > until) break
      this.queue.pop()
      this.now = e.at
      if (e.kind === "call") e.f()
      else if (e.kind === "packet") {
        if (this.engines.has(e.to)) this.step(e.to, { _tag: "PacketReceived", now: e.at, channel: e.channel, source: addressOf(e.from), bytes: e.bytes })
      } else if (this.engines.has(e.to) && this.gens.get(`${e.to}/${e.timer}`) === e.generation) {
        this.step(e.to, { _tag: "TimerFired", now: e.at, timer: e.timer, generation: e.generation })
      }
    }
    this.now = until
    return this
  }

  private step(id: number, input: RingInput): void {
    const engine = this.engines.get(id)!
    const outs = this.onStep === undefined ? engine.step(input) : this.onStep(id, engine, input, () => engine.step(input))
    for (const o of outs) {
      switch (o._tag) {
        case "SendUnicast":
          this.send(id, o.to, o.channel, o.bytes)
          break
        case "SendMulticast":
          for (const to of o.scope === "RING" ? engine.ringMembers : [...this.config.daemons.map((d) => d.id)]) {
            if (to !== id) this.send(id, to, o.channel, o.bytes)
          }
          break
        case "SetTimer":
          this.gens.set(`${id}/${o.timer}`, o.generation)
          this.queue.push({ at: this.now + o.delay, order: 0, kind: "timer", to: id, timer: o.timer, generation: o.generation })
          break
        case "CancelTimer":
          this.gens.delete(`${id}/${o.timer}`)
          break
        case "Install":
          if (o.kind === "REG") this.step(id, { _tag: "SetDeliveryGate", now: this.now, gate: "OPEN" })
          break
        default:
          break
      }
    }
  }

  private send(from: number, to: number, channel: "DATA" | "TOKEN", bytes: Buffer): void {
    const d = this.rule({ from, to, channel, type: bytes[3]!, bytes, now: this.now })
    if (d === "drop") return
    this.queue.push({ at: this.now + d, order: 0, kind: "packet", to, from, channel, bytes: Buffer.from(bytes) })
  }
}
