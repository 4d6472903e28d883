/**
 * A deterministic simulator of whole daemons (STYLE: simulation first): N {@link DaemonCore}s —
 * sessions, the group layer and the ring engine wired together — on a simulated network
 * (seeded loss, duplication, reordering through random delay, symmetric and one-way partitions),
 * with crashes and restarts (a new incarnation, same daemon id, its clients gone), stalls (a
 * daemon takes no input for a while, then its timers fire late) and simulated clients that
 * connect, join, leave, multicast every service to groups and private groups and disconnect.
 *
 * Every client keeps a log ({@link ClientRecorder}); every daemon install is logged; one global
 * counter orders all of them (evs-properties §1.1). Faults stop at `faultsUntil`; the drain then
 * runs until the daemons form one ring with their group layers idle, every connected client sends
 * one last message, and after `settle` ms the run ends and is checked: {@link checkGroups}
 * (evs-properties §4, strict mode) plus the end-of-run checks of this file (L1, G16).
 *
 * Everything random comes from one seeded PRNG, so a seed replays exactly.
 */
import { type CoreEvent, type CoreSink, DaemonCore, type DriverOutput } from "../../src/Membership/DaemonCore.ts"
import { Prng } from "../../src/Membership/Ring/Prng.ts"
import { makeRingConfig, type RingConfig } from "../../src/Membership/Ring/RingConfig.ts"
import type { Channel, TimerName } from "../../src/Membership/Ring/Types.ts"
import { decodeDaemonMessage, encodeDataDelivery, privateGroupOf, SELF_DISCARD } from "../../src/Protocol/index.ts"
import {
  checkGroups,
  ClientRecorder,
  type ClientLog,
  type DaemonInstall,
  formatClientEvent,
  gidKey,
  type GroupRun,
  type GroupViolation,
  SERVICE_BITS,
  type Service
} from "../support/GroupChecker.ts"
import { Heap } from "./Heap.ts"

export interface GroupNetFaults {
  /** Probability that one datagram copy is lost. */
  readonly loss: number
  /** Probability that a datagram is delivered twice. */
  readonly duplicate: number
  /** One-way delay range in ms; a random delay per copy reorders datagrams. */
  readonly minDelay: number
  readonly maxDelay: number
}

/** Called for every message a daemon hands to a client session (bug injection). */
export type DeliverHook = (
  d: { readonly client: string; readonly daemon: string; readonly bytes: Buffer; readonly now: number },
  pass: (bytes: Buffer) => void
) => void

export interface GroupSimOptions {
  readonly seed: number
  /** 3–9 in the CI set. */
  readonly daemons: number
  readonly faults: GroupNetFaults
  /** Network faults, crashes, stalls and client actions stop here; the drain follows. */
  readonly faultsUntil: number
  /** Daemons boot within this many ms (each alone, then merging: daemon-protocol §6.11). */
  readonly bootSpread: number
  /** Partition changes in `[0, faultsUntil)`: each splits the daemons into 1–3 components. */
  readonly partitions: number
  /** Of those, how many also cut a few links in one direction only. */
  readonly oneWay: number
  readonly crashes: number
  /** A crashed daemon restarts after this long (at `faultsUntil` at the latest). */
  readonly downtime: readonly [number, number]
  readonly stalls: number
  readonly stallLength: readonly [number, number]
  readonly clientsPerDaemon: readonly [number, number]
  /** Shared group names `g1`…: 2–4. */
  readonly groups: number
  /** Actions per client slot (connect, join, leave, send, disconnect) in `[0, faultsUntil)`. */
  readonly actionsPerClient: number
  /** Probability that a client slot asks for membership messages. */
  readonly membershipShare: number
  readonly ring?: Parameters<typeof makeRingConfig>[1]
  /** The drain gives up (an L1 violation) this long after `faultsUntil`. */
  readonly maxDrain: number
  /** Time after the last messages before the run ends. */
  readonly settle: number
  /** Abort (a violation) after this many events. */
  readonly maxSteps?: number
  readonly deliverHook?: DeliverHook
}

type SimEvent =
  | { at: number; order: number; kind: "packet"; to: number; from: number; channel: Channel; bytes: Buffer }
  | { at: number; order: number; kind: "timer"; to: number; incarnation: number; timer: TimerName; generation: number }
  | { at: number; order: number; kind: "boot"; to: number }
  | { at: number; order: number; kind: "crash"; to: number; downtime: number }
  | { at: number; order: number; kind: "stall"; to: number; length: number }
  | { at: number; order: number; kind: "flush"; to: number }
  | { at: number; order: number; kind: "partition"; components: ReadonlyArray<number>; oneWay: ReadonlyArray<readonly [number, number]> }
  | { at: number; order: number; kind: "client"; client: number }
  | { at: number; order: number; kind: "check" }
  | { at: number; order: number; kind: "end" }

interface Session {
  readonly id: number
  readonly client: Client
  readonly rec: ClientRecorder
}

interface Proc {
  readonly slot: number
  readonly key: string
  readonly incarnation: number
  readonly core: DaemonCore
  alive: boolean
  readsPaused: boolean
  stalledUntil: number
  /** Client actions waiting for the daemon to read again (paused reads or a stall). */
  readonly deferred: Array<number>
  readonly sessions: Map<number, Session>
  nextSession: number
  /** The last regular configuration installed. */
  lastReg: { readonly seq: number; readonly rep: number; readonly members: ReadonlyArray<number> } | undefined
}

interface Client {
  readonly index: number
  readonly privateName: string
  readonly slot: number
  readonly membership: boolean
  serial: number
  session: Session | undefined
  /** Groups it asked to join (to pick leaves). */
  readonly joined: Set<string>
}

interface FinalMessage {
  readonly id: string
  readonly sender: Client
  readonly groups: ReadonlyArray<string>
  readonly selfDiscard: boolean
}

export interface GroupSimResult {
  readonly seed: number
  readonly daemons: number
  readonly violations: ReadonlyArray<GroupViolation>
  readonly run: GroupRun
  readonly stats: GroupSim["stats"]
  /** Trace lines around a violation (client events, installs, faults), by global order. */
  readonly excerpt: (v: GroupViolation, lines?: number) => string
}

const SERVICES: ReadonlyArray<Service> = ["UNRELIABLE", "RELIABLE", "FIFO", "CAUSAL", "AGREED", "SAFE"]

/** The timers of the fast profile (src/Config/Defaults.ts FAST_TIMEOUTS) with a shorter probe back-off. */
export const FAST_RING_TIMEOUTS = {
  tokenLoss: 250, tokenRetransmit: 20, tokenHold: 100, join: 50, consensus: 250, commit: 250, probeMin: 200, probeMax: 5000
} as const

/**
 * A scenario per seed: 3–9 daemons; the kind (seed mod 4) stresses one thing more — 0 loss,
 * duplication and partitions; 1 crashes and restarts; 2 one-way links and stalls; 3 all of it.
 * Odd seeds run the LAN timers, even ones the fast profile.
 */
export const groupScenario = (seed: number, overrides: Partial<GroupSimOptions> = {}): GroupSimOptions => {
  const kind = seed % 4
  const r = new Prng(seed * 2654435761)
  const lan = seed % 2 === 1
  const faultsUntil = lan ? 6000 : 3000
  return {
    seed,
    daemons: 3 + (seed % 7),
    faults: {
      loss: [0.02, 0.005, 0.01, 0.03][kind]!, duplicate: 0.01, minDelay: 0.05, maxDelay: seed % 3 === 0 ? 4 : 1
    },
    faultsUntil,
    bootSpread: 300,
    partitions: kind === 1 ? 1 : 2 + r.int(3),
    oneWay: kind === 2 || kind === 3 ? 1 : 0,
    crashes: kind === 1 ? 2 + r.int(2) : kind === 3 ? 1 : 0,
    downtime: [100, faultsUntil / 3],
    stalls: kind === 2 || kind === 3 ? 2 : 0,
    stallLength: lan ? [100, 1500] : [50, 400],
    clientsPerDaemon: [1, 3],
    groups: 2 + (seed % 3),
    actionsPerClient: 24,
    membershipShare: 0.8,
    ring: { acceleratedRing: (seed >> 1) % 2 === 0, ...(lan ? { timeouts: { probeMax: 8000 } } : { timeouts: FAST_RING_TIMEOUTS }) },
    maxDrain: 150_000,
    settle: 1500,
    maxSteps: 2_000_000,
    ...overrides
  }
}

export class GroupSim {
  readonly rng: Prng
  readonly ids: ReadonlyArray<number>
  readonly names: ReadonlyArray<string>
  readonly config: RingConfig
  readonly slotOf = new Map<number, number>()
  readonly procs: Array<Proc | undefined>
  readonly clients: Array<Client> = []
  readonly logs: Array<ClientLog> = []
  readonly installs = new Map<string, Array<DaemonInstall>>()
  readonly simEvents: Array<{ readonly gseq: number; readonly t: number; readonly text: string }> = []
  readonly live: Array<GroupViolation> = []
  readonly stats = { steps: 0, datagrams: 0, lost: 0, crashes: 0, partitions: 0, stalls: 0, sends: 0, deliveries: 0, drainedAt: 0 }
  now = 0
  private gseq = 0
  private readonly queue = new Heap<SimEvent>()
  private readonly latestGen = new Map<string, number>()
  private readonly persisted = new Map<number, number>()
  private readonly lastIncarnation = new Map<number, number>()
  private components: ReadonlyArray<number>
  private oneWay = new Set<string>()
  private readonly groupNames: ReadonlyArray<string>
  private convergedChecks = 0
  private finals: Array<FinalMessage> = []
  private finalAt: number | undefined
  private ended = false

  constructor(readonly options: GroupSimOptions) {
    this.rng = new Prng(options.seed)
    // Ids deliberately not in rank order of their numeric value.
    this.ids = Array.from({ length: options.daemons }, (_, i) => 1000 + ((i * 7919) % 997))
    this.names = this.ids.map((_, i) => `n${i + 1}`)
    this.ids.forEach((id, i) => this.slotOf.set(id, i))
    this.config = makeRingConfig(this.ids.map((id, i) => ({ id, address: addressOf(i) })), options.ring ?? {})
    this.procs = this.ids.map(() => undefined)
    this.components = this.ids.map(() => 0)
    this.groupNames = Array.from({ length: options.groups }, (_, i) => `g${i + 1}`)
  }

  // -------------------------------------------------------------------------------------------
  // Plan and main loop

  private schedule(e: SimEvent): void {
    this.queue.push(e)
  }

  private stamp = (): { gseq: number; t: number } => ({ gseq: ++this.gseq, t: this.now })

  private note(text: string): void {
    this.simEvents.push({ gseq: ++this.gseq, t: this.now, text })
  }

  private plan(): void {
    const o = this.options
    const until = o.faultsUntil
    for (let slot = 0; slot < o.daemons; slot++) {
      this.schedule({ at: this.rng.next() * o.bootSpread, order: 0, kind: "boot", to: slot })
      const n = o.clientsPerDaemon[0] + this.rng.int(o.clientsPerDaemon[1] - o.clientsPerDaemon[0] + 1)
      for (let k = 0; k < n; k++) {
        const c: Client = {
          index: this.clients.length, privateName: `c${slot + 1}x${k}`, slot,
          membership: this.rng.next() < o.membershipShare, serial: 0, session: undefined, joined: new Set()
        }
        this.clients.push(c)
        this.schedule({ at: o.bootSpread + this.rng.next() * 200, order: 0, kind: "client", client: c.index })
        for (let a = 0; a < o.actionsPerClient; a++) {
          this.schedule({ at: this.rng.next() * until, order: 0, kind: "client", client: c.index })
        }
      }
    }
    for (let i = 0; i < o.partitions; i++) {
      const k = 1 + this.rng.int(3)
      const components = this.ids.map(() => this.rng.int(k))
      const oneWay: Array<readonly [number, number]> = []
      if (i < o.oneWay) {
        for (let j = 0; j < 1 + this.rng.int(2); j++) {
          const a = this.rng.int(o.daemons)
          const b = this.rng.int(o.daemons)
          if (a !== b) oneWay.push([a, b])
        }
      }
      this.schedule({ at: this.rng.next() * until, order: 0, kind: "partition", components, oneWay })
    }
    this.schedule({ at: until, order: 0, kind: "partition", components: this.ids.map(() => 0), oneWay: [] })
    for (let i = 0; i < o.crashes; i++) {
      const downtime = o.downtime[0] + this.rng.next() * (o.downtime[1] - o.downtime[0])
      this.schedule({ at: this.rng.next() * until, order: 0, kind: "crash", to: this.rng.int(o.daemons), downtime })
    }
    for (let i = 0; i < o.stalls; i++) {
      const length = o.stallLength[0] + this.rng.next() * (o.stallLength[1] - o.stallLength[0])
      this.schedule({ at: this.rng.next() * until, order: 0, kind: "stall", to: this.rng.int(o.daemons), length })
    }
    this.schedule({ at: until, order: 0, kind: "check" })
  }

  run(): GroupSimResult {
    this.plan()
    const maxSteps = this.options.maxSteps ?? 2_000_000
    while (!this.ended) {
      const e = this.queue.pop()
      if (e === undefined) break
      this.now = e.at
      if (++this.stats.steps > maxSteps) {
        this.live.push({ property: "steps", detail: `more than ${maxSteps} events by t=${this.now.toFixed(0)}` })
        break
      }
      this.step(e)
    }
    return this.finish()
  }

  /** An event for a stalled daemon waits until the stall ends (its timers fire late). */
  private stalled(slot: number, e: SimEvent): boolean {
    const p = this.procs[slot]
    if (p === undefined || !p.alive || p.stalledUntil <= this.now) return false
    this.schedule({ ...e, at: p.stalledUntil })
    return true
  }

  private step(e: SimEvent): void {
    switch (e.kind) {
      case "boot":
        return this.boot(e.to)
      case "crash":
        return this.crash(e.to, e.downtime)
      case "stall": {
        const p = this.procs[e.to]
        if (p === undefined || !p.alive || this.now >= this.options.faultsUntil) return
        p.stalledUntil = Math.max(p.stalledUntil, Math.min(this.now + e.length, this.options.faultsUntil))
        this.stats.stalls++
        this.note(`stall ${p.key} until ${p.stalledUntil.toFixed(1)}`)
        this.schedule({ at: p.stalledUntil, order: 0, kind: "flush", to: e.to })
        return
      }
      case "flush":
        return this.flush(e.to)
      case "partition":
        this.components = e.components
        this.oneWay = new Set(e.oneWay.map(([a, b]) => `${a}>${b}`))
        this.stats.partitions++
        this.note(`partition [${e.components.join(" ")}]${e.oneWay.length > 0 ? ` one-way ${e.oneWay.map(([a, b]) => `${this.names[a]}→${this.names[b]}`).join(" ")} cut` : ""}`)
        return
      case "packet": {
        const p = this.procs[e.to]
        if (p === undefined || !p.alive || this.stalled(e.to, e)) return
        if (!this.connected(e.from, e.to)) return
        p.core.packet(this.now, e.channel, addressOf(e.from), e.bytes)
        return
      }
      case "timer": {
        const p = this.procs[e.to]
        if (p === undefined || !p.alive || p.incarnation !== e.incarnation) return
        if (this.latestGen.get(`${e.to}#${e.incarnation}/${e.timer}`) !== e.generation) return
        if (this.stalled(e.to, e)) return
        p.core.timer(this.now, e.timer, e.generation)
        return
      }
      case "client":
        return this.clientAction(this.clients[e.client]!)
      case "check":
        return this.check()
      case "end":
        this.ended = true
        return
    }
  }

  // -------------------------------------------------------------------------------------------
  // Daemon processes

  private boot(slot: number): void {
    const existing = this.procs[slot]
    if (existing?.alive === true) return
    const id = this.ids[slot]!
    const incarnation = (this.lastIncarnation.get(id) ?? 0) + 1
    this.lastIncarnation.set(id, incarnation)
    const key = `${this.names[slot]}#${incarnation}`
    // The sink is called only once the core runs (start() below), when `proc` is set.
    let proc: Proc | undefined
    const sink: CoreSink = {
      deliver: (sessionId, bytes) => this.deliver(proc!, sessionId, bytes),
      close: (sessionId) => this.closed(proc!, sessionId),
      pauseClientReads: (paused) => {
        proc!.readsPaused = paused
        if (!paused) this.schedule({ at: this.now, order: 0, kind: "flush", to: slot })
      },
      perform: (o) => this.perform(proc!, o),
      event: (ev) => this.coreEvent(proc!, ev)
    }
    const core = new DaemonCore({
      daemonName: this.names[slot]!, daemonId: id, ring: this.config, incarnation,
      ringSeqFloor: this.persisted.get(id) ?? 0, seed: (this.options.seed ^ (id * 31 + incarnation)) >>> 0, now: this.now
    }, sink)
    proc = { slot, key, incarnation, core, alive: true, readsPaused: false, stalledUntil: 0, deferred: [], sessions: new Map(), nextSession: 1, lastReg: undefined }
    this.procs[slot] = proc
    this.installs.set(key, [])
    this.note(`boot ${key}`)
    proc.core.start()
  }

  private crash(slot: number, downtime: number): void {
    const p = this.procs[slot]
    if (p === undefined || !p.alive || this.now >= this.options.faultsUntil) return
    p.alive = false
    this.stats.crashes++
    this.note(`crash ${p.key}`)
    for (const s of p.sessions.values()) this.endSession(s, "crash")
    p.sessions.clear()
    this.schedule({ at: Math.min(this.now + downtime, this.options.faultsUntil), order: 0, kind: "boot", to: slot })
  }

  private perform(p: Proc, o: DriverOutput): void {
    if (!p.alive) return
    switch (o._tag) {
      case "SendUnicast": {
        const to = this.slotOf.get(o.to)
        if (to !== undefined && to !== p.slot) this.send(p.slot, to, o.channel, o.bytes)
        return
      }
      case "SendMulticast": {
        const targets = o.scope === "RING" ? p.core.engine.ringMembers : this.ids
        for (const id of targets) {
          const to = this.slotOf.get(id)
          if (to !== undefined && to !== p.slot) this.send(p.slot, to, o.channel, o.bytes)
        }
        return
      }
      case "SetTimer":
        this.latestGen.set(`${p.slot}#${p.incarnation}/${o.timer}`, o.generation)
        this.schedule({ at: this.now + o.delay, order: 0, kind: "timer", to: p.slot, incarnation: p.incarnation, timer: o.timer, generation: o.generation })
        return
      case "CancelTimer":
        this.latestGen.delete(`${p.slot}#${p.incarnation}/${o.timer}`)
        return
      case "PersistRingSeq": {
        const id = this.ids[p.slot]!
        this.persisted.set(id, Math.max(this.persisted.get(id) ?? 0, o.seq))
        return
      }
      default:
        return
    }
  }

  private coreEvent(p: Proc, e: CoreEvent): void {
    switch (e._tag) {
      case "Installed": {
        const members = e.members.map((id) => {
          const slot = this.slotOf.get(id)
          return slot === undefined ? `?${id}` : this.procs[slot]?.key ?? `${this.names[slot]}#?`
        })
        this.installs.get(p.key)!.push({ ...this.stamp(), kind: e.kind, seq: e.seq, rep: e.rep, members })
        if (e.kind === "REG") p.lastReg = { seq: e.seq, rep: e.rep, members: e.members }
        return
      }
      case "SubmitRefused": {
        // The core ends the session itself (DaemonCore: a refused submit disconnects it).
        const s = e.sessionId === undefined ? undefined : p.sessions.get(e.sessionId)
        if (s !== undefined) this.endSession(s, `refused: ${e.reason}`)
        this.note(`${p.key} refused a submit${s ? ` of ${s.rec.log.id}` : ""}: ${e.reason}`)
        return
      }
      case "BadEnvelope":
        this.live.push({ property: "envelope", detail: `${p.key}: bad envelope from ${e.from}: ${e.reason}` })
        return
      case "Trace": {
        const ev = e.output.event
        if (ev.type === "invariant") this.live.push({ property: "invariant", detail: `${p.key}: ${ev.what}` })
        return
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // The network

  private connected(a: number, b: number): boolean {
    if (this.components[a] !== this.components[b]) return false
    return !this.oneWay.has(`${a}>${b}`)
  }

  private send(from: number, to: number, channel: Channel, bytes: Buffer): void {
    this.stats.datagrams++
    if (!this.connected(from, to)) return
    const f = this.options.faults
    const faulty = this.now < this.options.faultsUntil
    const copies = faulty && this.rng.next() < f.duplicate ? 2 : 1
    for (let i = 0; i < copies; i++) {
      if (faulty && this.rng.next() < f.loss) {
        this.stats.lost++
        continue
      }
      const delay = faulty ? f.minDelay + this.rng.next() * (f.maxDelay - f.minDelay) : f.minDelay
      // The driver hands the core its own copy of every datagram (no shared mutable buffers).
      this.schedule({ at: this.now + delay, order: 0, kind: "packet", to, from, channel, bytes: Buffer.from(bytes) })
    }
  }

  // -------------------------------------------------------------------------------------------
  // Clients

  private deliver(p: Proc, sessionId: number, bytes: Buffer): void {
    const s = p.sessions.get(sessionId)
    if (s === undefined || s.rec.ended) return
    this.stats.deliveries++
    const pass = (b: Buffer): void => {
      if (s.rec.ended) return
      try {
        s.rec.received(decodeDaemonMessage(b, s.rec.log.privateGroup))
      } catch (e) {
        this.live.push({ property: "wire", detail: `${s.rec.log.id}: undecodable message from ${p.key}: ${String(e)}`, gseq: this.gseq })
      }
    }
    const hook = this.options.deliverHook
    if (hook === undefined) pass(bytes)
    else hook({ client: s.rec.log.id, daemon: p.key, bytes, now: this.now }, pass)
  }

  /** The kill of a session was delivered (or a handshake ended): its socket closes. */
  private closed(p: Proc, sessionId: number): void {
    const s = p.sessions.get(sessionId)
    if (s === undefined) return
    p.sessions.delete(sessionId)
    this.endSession(s, "closed by the daemon")
  }

  private endSession(s: Session, reason: string): void {
    if (!s.rec.ended) s.rec.killed(reason)
    if (s.client.session === s) {
      s.client.session = undefined
      s.client.joined.clear()
    }
  }

  private flush(slot: number): void {
    const p = this.procs[slot]
    if (p === undefined || !p.alive) return
    while (p.deferred.length > 0 && !this.blocked(p)) this.clientAction(this.clients[p.deferred.shift()!]!)
  }

  private blocked(p: Proc): boolean {
    return p.readsPaused || p.stalledUntil > this.now
  }

  private clientAction(c: Client): void {
    if (this.now >= this.options.faultsUntil) return
    const p = this.procs[c.slot]
    if (p === undefined || !p.alive) return
    if (this.blocked(p)) {
      p.deferred.push(c.index)
      return
    }
    p.core.tick(this.now)
    const s = c.session
    if (s === undefined) return this.connect(c, p)
    const r = this.rng.next()
    const pool = this.groupNames
    if (r < 0.58) return this.multicast(s, p, false)
    if (r < 0.72) {
      const g = pool[this.rng.int(pool.length)]!
      c.joined.add(g)
      s.rec.reqJoin(g)
      return p.core.join(s.id, g)
    }
    if (r < 0.84) {
      // Mostly a group it joined; sometimes any (a leave of a non-member is ignored, §8.5).
      const mine = [...c.joined]
      const g = mine.length > 0 && this.rng.next() < 0.85 ? mine[this.rng.int(mine.length)]! : pool[this.rng.int(pool.length)]!
      c.joined.delete(g)
      s.rec.reqLeave(g)
      return p.core.leave(s.id, g)
    }
    if (r < 0.87) {
      const requested = this.rng.next() < 0.5
      s.rec.disconnect()
      c.session = undefined
      c.joined.clear()
      return p.core.disconnect(s.id, requested)
    }
  }

  private connect(c: Client, p: Proc): void {
    const id = p.nextSession++
    if (p.core.reserveName(id, c.privateName) === undefined) {
      // The old session's kill is not delivered yet (client-protocol §8.7): try again soon.
      this.schedule({ at: this.now + 100 + this.rng.next() * 400, order: 0, kind: "client", client: c.index })
      return
    }
    p.core.open(id, c.membership)
    const privateGroup = privateGroupOf(c.privateName, this.names[c.slot]!)
    c.serial++
    const rec = new ClientRecorder({ id: `${privateGroup}/${c.serial}`, privateGroup, daemon: p.key, membership: c.membership, stamp: this.stamp })
    this.logs.push(rec.log)
    const s: Session = { id, client: c, rec }
    p.sessions.set(id, s)
    c.session = s
    rec.connect()
  }

  /** A data message: 1–3 groups (sometimes a private group), any service, sometimes SELF_DISCARD. */
  private multicast(s: Session, p: Proc, final: boolean): void {
    const pool = this.groupNames
    const groups = new Set<string>()
    const n = 1 + this.rng.int(final ? 2 : 3)
    for (let i = 0; i < n; i++) groups.add(pool[this.rng.int(pool.length)]!)
    if (this.rng.next() < 0.12) {
      const other = this.clients[this.rng.int(this.clients.length)]!
      groups.add(privateGroupOf(other.privateName, this.names[other.slot]!))
    }
    const service = SERVICES[this.rng.int(SERVICES.length)]!
    const selfDiscard = this.rng.next() < 0.15
    const x = this.rng.next()
    const size = x < 0.8 ? this.rng.int(100) : x < 0.98 ? 100 + this.rng.int(1500) : 3000 + this.rng.int(5000)
    const body = Buffer.alloc(size, s.rec.log.id.length + size)
    const messType = this.rng.int(65536) - 32768
    const serviceType = SERVICE_BITS[service] | (selfDiscard ? SELF_DISCARD : 0)
    const { id, payload } = s.rec.csend([...groups], serviceType, messType, body)
    this.stats.sends++
    if (final) this.finals.push({ id, sender: s.client, groups: [...groups], selfDiscard })
    const message = { service: serviceType, messType, senderBigEndian: this.rng.next() < 0.1, groups: [...groups], payload }
    p.core.multicast(s.id, message, encodeDataDelivery({ ...message, sender: s.rec.log.privateGroup }))
  }

  // -------------------------------------------------------------------------------------------
  // The drain and the end of the run

  /** One ring of every daemon, every group layer idle, nothing waiting to be read. */
  private convergence(): string | undefined {
    let ring: string | undefined
    for (const p of this.procs) {
      if (p === undefined || !p.alive) return "a daemon is down"
      const st = p.core.engine.state
      if (st !== "OPERATIONAL") return `${p.key} is ${st}`
      if (p.core.groups.gstate !== "GOP") return `${p.key} groups in ${p.core.groups.gstate}`
      if (p.readsPaused || p.deferred.length > 0) return `${p.key} has client input waiting`
      const r = p.lastReg
      if (r === undefined || r.members.length !== this.ids.length) return `${p.key} is in ${r ? `${r.seq}:${r.rep} [${r.members.join(" ")}]` : "no ring"}`
      const k = `${r.seq}:${r.rep}`
      if (ring !== undefined && ring !== k) return `${p.key} is in ${k}, another in ${ring}`
      ring = k
    }
    return undefined
  }

  private check(): void {
    if (this.finalAt !== undefined) return
    const why = this.convergence()
    this.convergedChecks = why === undefined ? this.convergedChecks + 1 : 0
    if (this.convergedChecks >= 4) {
      // Converged: every connected client sends one last message (G16).
      this.finalAt = this.now
      this.stats.drainedAt = this.now
      this.note("final messages")
      for (const c of this.clients) {
        const p = this.procs[c.slot]
        if (c.session !== undefined && p !== undefined) {
          p.core.tick(this.now)
          this.multicast(c.session, p, true)
        }
      }
      this.schedule({ at: this.now + this.options.settle, order: 0, kind: "end" })
      return
    }
    if (this.now > this.options.faultsUntil + this.options.maxDrain) {
      this.live.push({ property: "L1", detail: `no single ring ${this.options.maxDrain} ms after the faults stopped: ${why}`, gseq: this.gseq })
      this.ended = true
      return
    }
    this.schedule({ at: this.now + 250, order: 0, kind: "check" })
  }

  private finish(): GroupSimResult {
    const v: Array<GroupViolation> = [...this.live]
    const up = new Set<string>()
    const upClients: Array<Client> = []
    for (const c of this.clients) {
      if (c.session !== undefined && this.procs[c.slot]?.alive === true && !c.session.rec.ended) {
        up.add(c.session.rec.log.id)
        upClients.push(c)
      }
    }
    if (this.finalAt !== undefined) this.endChecks(v, upClients)
    const run: GroupRun = {
      clients: this.logs,
      installs: this.installs,
      ...(this.finalAt !== undefined ? { endOfRun: { clientsUp: up } } : {})
    }
    v.push(...checkGroups(run, { mode: "strict", maxReports: 30 }))
    return { seed: this.options.seed, daemons: this.options.daemons, violations: v, run, stats: this.stats, excerpt: (x, n) => this.excerpt(x, n) }
  }

  /**
   * The end of the drain: L1 (still one ring), identical group tables at every daemon, every
   * connected member's last view matches them, and every last message reached exactly its
   * connected targets (G16, with G11's routing and G12's "other targets do").
   */
  private endChecks(v: Array<GroupViolation>, upClients: ReadonlyArray<Client>): void {
    const why = this.convergence()
    if (why !== undefined) v.push({ property: "L1", detail: `after the final messages: ${why}`, gseq: this.gseq })
    const late = [...this.installs.values()].flat().filter((i) => i.t! > this.finalAt!)
    if (late.length > 0) v.push({ property: "L1", detail: `${late.length} installs after convergence`, gseq: late[0]!.gseq! })
    const tables = this.procs.map((p) => p === undefined ? "" : JSON.stringify(
      p.core.groups.snapshot().map((g) => ({ name: g.name, gid: gidKey(g.gid), members: g.daemons.flatMap((d) => d.members) }))
    ))
    for (let i = 1; i < tables.length; i++) {
      if (tables[i] !== tables[0]) {
        v.push({ property: "G16", detail: `group tables differ after the drain: ${this.procs[0]!.key} ${tables[0]} vs ${this.procs[i]!.key} ${tables[i]}`, gseq: this.gseq })
        break
      }
    }
    const table = new Map(this.procs[0]!.core.groups.snapshot().map((g) => [g.name, { gid: gidKey(g.gid), members: g.daemons.flatMap((d) => d.members) }]))
    for (const c of upClients) {
      const log = c.session!.rec.log
      const current = new Map<string, { gid: string; members: ReadonlyArray<string> }>()
      const got = new Set<string>()
      for (const e of log.events) {
        if (e.type === "view") current.set(e.group, { gid: gidKey(e.gid), members: e.members })
        else if (e.type === "selfLeave") current.delete(e.group)
        else if (e.type === "recv") got.add(e.id)
      }
      if (c.membership) {
        for (const [g, t] of table) {
          const mine = current.get(g)
          const member = t.members.includes(log.privateGroup)
          if (member && (mine === undefined || mine.gid !== t.gid || JSON.stringify(mine.members) !== JSON.stringify(t.members))) {
            v.push({ property: "G16", detail: `${log.id}'s last view of ${g} is ${mine ? `${mine.gid} ${JSON.stringify(mine.members)}` : "none"}, the daemons have ${t.gid} ${JSON.stringify(t.members)}`, clients: [log.id], group: g, gseq: this.gseq })
          }
        }
        for (const g of current.keys()) {
          if (!(table.get(g)?.members.includes(log.privateGroup) ?? false)) {
            v.push({ property: "G16", detail: `${log.id} still has a view of ${g} but is not a member at the daemons`, clients: [log.id], group: g, gseq: this.gseq })
          }
        }
      }
      for (const m of this.finals) {
        const target = m.groups.some((g) => g === log.privateGroup || (table.get(g)?.members.includes(log.privateGroup) ?? false)) &&
          !(m.selfDiscard && m.sender === c)
        const senderUp = m.sender.session !== undefined && upClients.includes(m.sender)
        if (!senderUp) continue
        if (target && !got.has(m.id)) {
          v.push({ property: "G16", detail: `${log.id} never received the last message ${m.id} to ${JSON.stringify(m.groups)}${m.selfDiscard ? " (SELF_DISCARD)" : ""}`, clients: [log.id], message: m.id, gseq: this.gseq })
        } else if (!target && got.has(m.id)) {
          v.push({ property: "G11", detail: `${log.id} received the last message ${m.id} to ${JSON.stringify(m.groups)}${m.selfDiscard ? " (SELF_DISCARD)" : ""} without being a target`, clients: [log.id], message: m.id, gseq: this.gseq })
        }
      }
    }
  }

  /** Client events, installs and faults around `v` (by global order), those of its clients first. */
  private excerpt(v: GroupViolation, lines = 40): string {
    const at = v.gseq ?? this.gseq
    const involved = new Set(v.clients ?? [])
    const daemons = new Set(this.logs.filter((l) => involved.has(l.id)).map((l) => l.daemon))
    const all: Array<{ gseq: number; text: string }> = []
    for (const log of this.logs) {
      if (involved.size > 0 && !involved.has(log.id)) continue
      for (const e of log.events) if (e.gseq! <= at + 10) all.push({ gseq: e.gseq!, text: formatClientEvent(log, e) })
    }
    for (const [d, list] of this.installs) {
      if (daemons.size > 0 && !daemons.has(d)) continue
      for (const i of list) {
        if (i.gseq! <= at + 10) all.push({ gseq: i.gseq!, text: `${i.gseq} t=${i.t!.toFixed(1)} ${d} install ${i.kind} ${i.seq}:${i.rep} [${i.members.join(" ")}]` })
      }
    }
    for (const e of this.simEvents) if (e.gseq <= at + 10) all.push({ gseq: e.gseq, text: `${e.gseq} t=${e.t.toFixed(1)} ${e.text}` })
    all.sort((a, b) => a.gseq - b.gseq)
    return all.slice(-lines).map((x) => `  ${x.text}`).join("\n")
  }
}

const addressOf = (slot: number): string => `10.0.0.${slot + 1}`

/** Runs one seed; on violations, a report with the seed, the properties and a trace excerpt. */
export const runGroupSeed = (seed: number, overrides: Partial<GroupSimOptions> = {}): { result: GroupSimResult; report: string | undefined } => {
  const result = new GroupSim(groupScenario(seed, overrides)).run()
  if (result.violations.length === 0) return { result, report: undefined }
  const first = result.violations[0]!
  const report = [
    `seed ${seed} (${result.daemons} daemons): ${result.violations.length} violation(s): ${[...new Set(result.violations.map((x) => x.property))].join(" ")}`,
    ...result.violations.slice(0, 5).map((x) => `  ${x.property}: ${x.detail}${x.positions ? ` [${x.positions.join(" ")}]` : ""}`),
    `trace before the first (${first.property}, gseq ${first.gseq ?? "?"}):`,
    result.excerpt(first)
  ].join("\n")
  return { result, report }
}
