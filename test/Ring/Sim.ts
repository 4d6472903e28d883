/**
 * A deterministic simulator for the ring engine (STYLE: simulation first). N engines, a simulated
 * network (seeded PRNG: loss, duplication, reordering through random delay, partitions), simulated
 * time driving the timers, crashes and restarts with a new incarnation, clients submitting
 * messages, and one log per process start (evs-properties §1.1) for the checkers.
 *
 * Everything random comes from one seeded PRNG, so a seed replays exactly.
 */
import { Prng } from "../../src/Membership/Ring/Prng.js"
import { makeRingConfig, type RingConfig } from "../../src/Membership/Ring/RingConfig.js"
import { RingEngine } from "../../src/Membership/Ring/RingEngine.js"
import type { Channel, ConfigurationId, DeliveryClass, Ord, RingInput, RingOutput, TimerName } from "../../src/Membership/Ring/Types.js"
import { Heap } from "./Heap.js"

export interface NetFaults {
  /** Probability that one datagram copy is lost. */
  readonly loss: number
  /** Probability that a datagram is delivered twice. */
  readonly duplicate: number
  /** One-way delay range in ms; a random delay per copy reorders datagrams. */
  readonly minDelay: number
  readonly maxDelay: number
}

export interface Workload {
  /** Messages each daemon's clients submit, spread uniformly over `[0, submitUntil)`. */
  readonly messagesPerDaemon: number
  readonly submitUntil: number
  readonly classes: ReadonlyArray<DeliveryClass>
  /** Envelope size picker (bytes, ≥ 16). */
  readonly size: (rng: Prng) => number
}

/** Membership faults (all stop at `faultsUntil`; crashed daemons restart then at the latest). */
export interface ProcessFaults {
  /** Number of partition changes in `[0, faultsUntil)`; each splits the daemons into 1–3 components. */
  readonly partitions: number
  /** Number of crashes in `[0, faultsUntil)`; each is followed by a restart after `downtime`. */
  readonly crashes: number
  readonly downtime: readonly [number, number]
  /** Graceful shutdowns (§6.13): `[time, daemon index]`; the daemon does not come back. */
  readonly shutdowns?: ReadonlyArray<readonly [number, number]>
}

export interface SimOptions {
  readonly seed: number
  readonly daemons: number
  readonly faults: NetFaults
  /** Faults stop at this time; the run continues fault-free (the drain) until `endAt`. */
  readonly faultsUntil: number
  readonly endAt: number
  readonly workload: Workload
  /** "fixed": every daemon starts in one formed ring. "alone": boot alone (§6.11) within `bootSpread` ms. */
  readonly boot?: "fixed" | "alone"
  readonly bootSpread?: number
  readonly processFaults?: ProcessFaults
  readonly config?: Partial<Parameters<typeof makeRingConfig>[1]>
  /** Per-link, per-channel faults (R6 item 4): true drops the datagram. Applies until `faultsUntil`. */
  readonly blocked?: (from: number, to: number, channel: Channel, now: number, bytes: Buffer) => boolean
  /** A late extra copy of a datagram, this many ms after it was sent (undefined: none). Applies until `faultsUntil`. */
  readonly lateCopy?: (from: number, to: number, channel: Channel, now: number, bytes: Buffer) => number | undefined
  /** Abort the run (and report a violation) after this many events; default 3 000 000. */
  readonly maxSteps?: number
  /** Post-process a daemon's outputs (bug injection). */
  readonly mutateOutputs?: (daemon: number, outs: Array<RingOutput>, rng: Prng) => Array<RingOutput>
  /**
   * Observer around every engine step (coverage of the §6.15 table, measurements): it must call
   * `run()` exactly once and return its outputs unchanged. The engine may be inspected before and
   * after `run()`; it must not be driven. Absent: the step runs as is.
   */
  readonly onStep?: (daemon: number, engine: RingEngine, input: RingInput, run: () => Array<RingOutput>) => Array<RingOutput>
}

/** Identity of a test message, also written in the envelope: `id#incarnation:index`. */
export type MsgKey = string
/** A daemon process (evs-properties §1.1): `id#incarnation`. */
export type ProcKey = string

export const procKey = (id: number, incarnation: number): ProcKey => `${id}#${incarnation}`

export type LogEvent =
  | { readonly type: "start"; readonly t: number }
  | { readonly type: "crash"; readonly t: number }
  | {
    readonly type: "install"
    readonly t: number
    readonly configId: ConfigurationId
    readonly members: ReadonlyArray<number>
    readonly procs: ReadonlyArray<ProcKey>
  }
  | { readonly type: "send"; readonly t: number; readonly key: MsgKey; readonly configId: ConfigurationId; readonly ord: Ord }
  | {
    readonly type: "deliver"
    readonly t: number
    readonly key: MsgKey
    readonly originatorId: number
    readonly deliveryClass: DeliveryClass
    readonly configId: ConfigurationId
    readonly ord: Ord
    readonly envelope: Buffer
  }

export interface Submitted {
  readonly key: MsgKey
  readonly origin: ProcKey
  readonly originId: number
  readonly envelope: Buffer
  readonly deliveryClass: DeliveryClass
  /** Submission order at the origin process. */
  readonly index: number
  /** Simulated submission time. */
  readonly at: number
}

/** A violation found by the simulator itself while running (e.g. a SAFE delivery too early, D7). */
export interface LiveViolation {
  readonly property: string
  readonly detail: string
}

type SimEvent =
  | { at: number; order: number; kind: "packet"; to: number; channel: Channel; from: number; bytes: Buffer }
  | { at: number; order: number; kind: "timer"; to: number; incarnation: number; timer: TimerName; generation: number }
  | { at: number; order: number; kind: "submit"; to: number; size: number; deliveryClass: DeliveryClass }
  | { at: number; order: number; kind: "boot"; to: number }
  | { at: number; order: number; kind: "crash"; to: number; downtime: number }
  | { at: number; order: number; kind: "shutdown"; to: number }
  | { at: number; order: number; kind: "partition"; components: Map<number, number> }
  | { at: number; order: number; kind: "reconfigure"; to: number; config: RingConfig }

interface Proc {
  engine: RingEngine
  readonly key: ProcKey
  readonly incarnation: number
  alive: boolean
  nextIndex: number
  readonly serialKey: Map<number, MsgKey>
}

export class Sim {
  readonly rng: Prng
  readonly ids: ReadonlyArray<number>
  readonly config: RingConfig
  readonly procs = new Map<number, Proc>()
  readonly logs = new Map<ProcKey, Array<LogEvent>>()
  readonly submitted = new Map<MsgKey, Submitted>()
  readonly live: Array<LiveViolation> = []
  /** §6.10.1 R1: the driver's durable ring seq per daemon. */
  private readonly persisted = new Map<number, number>()
  private readonly lastIncarnation = new Map<number, number>()
  private components = new Map<number, number>()
  /** Daemons shut down for good. */
  private readonly gone = new Set<number>()
  /** The configuration a daemon's file holds now (§9.5: set at boot and by each reload). */
  private readonly files = new Map<number, RingConfig>()
  /** Boot times set by {@link Sim.bootAt}. */
  private readonly bootTimes = new Map<number, number>()
  private pendingSubmit: Submitted | undefined
  private readonly queue = new Heap<SimEvent>()
  private readonly latestGen = new Map<string, number>()
  now = 0
  stats = { datagrams: 0, lost: 0, duplicated: 0, steps: 0, crashes: 0, partitions: 0 }

  constructor(readonly options: SimOptions) {
    this.rng = new Prng(options.seed)
    // Ids deliberately not in rank order of their numeric value.
    this.ids = Array.from({ length: options.daemons }, (_, i) => 1000 + ((i * 7919) % 997))
    this.config = makeRingConfig(this.ids.map((id) => ({ id, address: addressOf(id) })), options.config ?? {})
  }

  /** Engines of the current processes. */
  get engines(): Map<number, RingEngine> {
    return new Map([...this.procs].map(([id, p]) => [id, p.engine]))
  }

  /** (id, incarnation) of a process key. */
  static parse(k: ProcKey): { id: number; incarnation: number } {
    const [id, inc] = k.split("#")
    return { id: Number(id), incarnation: Number(inc) }
  }

  private schedule(e: SimEvent): void {
    this.queue.push(e)
  }

  /**
   * Daemon `id` boots at `at` (instead of the scenario's time) on `config` (instead of every
   * daemon of the run); restarts read `config` too, until a reload changes it. Before `run()`.
   */
  bootAt(id: number, at: number, config: RingConfig = this.config): this {
    this.bootTimes.set(id, at)
    this.files.set(id, config)
    return this
  }

  /** §9.5: at `at`, daemon `id`'s file holds `config` and it gets `Reconfigure`. Before `run()`. */
  reloadAt(id: number, at: number, config: RingConfig): this {
    this.schedule({ at, order: 0, kind: "reconfigure", to: id, config })
    return this
  }

  /** A daemon whose engine exited (shutdown, kill, fatal reload) is gone for good. */
  private retire(id: number): void {
    const p = this.procs.get(id)
    if (p === undefined) return
    p.alive = false
    this.gone.add(id)
    this.logs.get(p.key)!.push({ type: "crash", t: this.now })
    this.procs.delete(id)
  }

  private plan(): void {
    const w = this.options.workload
    const spread = this.options.boot === "alone" ? this.options.bootSpread ?? 0 : 0
    for (const id of this.ids) {
      const at = this.options.boot === "alone" ? this.rng.next() * spread : 0
      this.schedule({ at: this.bootTimes.get(id) ?? at, order: 0, kind: "boot", to: id })
      for (let i = 0; i < w.messagesPerDaemon; i++) {
        this.schedule({
          at: this.rng.next() * w.submitUntil, order: 0, kind: "submit", to: id,
          size: Math.max(16, w.size(this.rng)), deliveryClass: w.classes[this.rng.int(w.classes.length)]!
        })
      }
    }
    const pf = this.options.processFaults
    if (pf !== undefined) {
      const until = this.options.faultsUntil
      for (let i = 0; i < pf.partitions; i++) {
        const k = 1 + this.rng.int(3)
        const components = new Map(this.ids.map((id) => [id, this.rng.int(k)]))
        this.schedule({ at: this.rng.next() * until, order: 0, kind: "partition", components })
      }
      if (pf.partitions > 0) this.schedule({ at: until, order: 0, kind: "partition", components: new Map() })
      for (const [at, ix] of pf.shutdowns ?? []) this.schedule({ at, order: 0, kind: "shutdown", to: this.ids[ix]! })
      for (let i = 0; i < pf.crashes; i++) {
        const downtime = pf.downtime[0] + this.rng.next() * (pf.downtime[1] - pf.downtime[0])
        this.schedule({ at: this.rng.next() * until, order: 0, kind: "crash", to: this.ids[this.rng.int(this.ids.length)]!, downtime })
      }
    }
  }

  private start(id: number): void {
    const incarnation = (this.lastIncarnation.get(id) ?? 0) + 1
    this.lastIncarnation.set(id, incarnation)
    const key = procKey(id, incarnation)
    const proc: Proc = { engine: new RingEngine(this.files.get(id) ?? this.config, id), key, incarnation, alive: true, nextIndex: 0, serialKey: new Map() }
    this.procs.set(id, proc)
    this.logs.set(key, [{ type: "start", t: this.now }])
    const fixed = this.options.boot !== "alone"
    this.apply(id, this.step(id, proc.engine, {
      _tag: "Init", now: this.now, incarnation, ringSeqFloor: this.persisted.get(id) ?? 0, seed: this.options.seed ^ (id * 31 + incarnation),
      ...(fixed && incarnation === 1 ? { fixedRing: this.ids.map((i) => ({ id: i, incarnation: 1 })) } : {})
    }))
  }

  run(): this {
    this.plan()
    const endAt = this.options.endAt
    for (;;) {
      const e = this.queue.pop()
      if (e === undefined || e.at > endAt) break
      this.now = e.at
      if (++this.stats.steps > (this.options.maxSteps ?? 3_000_000)) {
        this.live.push({ property: "steps", detail: `more than ${this.options.maxSteps ?? 3_000_000} events by t=${this.now.toFixed(0)}` })
        break
      }
      switch (e.kind) {
        case "boot":
          if (!this.procs.has(e.to) && !this.gone.has(e.to)) this.start(e.to)
          break
        case "crash": {
          const p = this.procs.get(e.to)
          if (p === undefined || !p.alive || this.now >= this.options.faultsUntil) break
          p.alive = false
          this.stats.crashes++
          this.logs.get(p.key)!.push({ type: "crash", t: this.now })
          const restartAt = Math.min(this.now + e.downtime, this.options.faultsUntil)
          this.schedule({ at: restartAt, order: 0, kind: "boot", to: e.to })
          this.procs.delete(e.to)
          break
        }
        case "shutdown": {
          const p = this.procs.get(e.to)
          if (p === undefined) break
          this.apply(e.to, this.step(e.to, p.engine, { _tag: "Shutdown", now: this.now }))
          break
        }
        case "reconfigure": {
          this.files.set(e.to, e.config)
          const p = this.procs.get(e.to)
          if (p !== undefined) this.apply(e.to, this.step(e.to, p.engine, { _tag: "Reconfigure", now: this.now, config: e.config }))
          break
        }
        case "partition":
          this.components = e.components
          this.stats.partitions++
          break
        case "packet": {
          const p = this.procs.get(e.to)
          if (p === undefined || !p.alive || !this.connected(e.from, e.to)) break
          this.apply(e.to, this.step(e.to, p.engine, { _tag: "PacketReceived", now: e.at, channel: e.channel, source: addressOf(e.from), bytes: e.bytes }))
          break
        }
        case "timer": {
          const p = this.procs.get(e.to)
          if (p === undefined || p.incarnation !== e.incarnation) break
          if (this.latestGen.get(`${e.to}#${e.incarnation}/${e.timer}`) !== e.generation) break
          this.apply(e.to, this.step(e.to, p.engine, { _tag: "TimerFired", now: e.at, timer: e.timer, generation: e.generation }))
          break
        }
        case "submit": {
          const p = this.procs.get(e.to)
          if (p === undefined) break
          const index = p.nextIndex++
          const envelope = Buffer.allocUnsafe(e.size)
          envelope.writeUInt32LE(e.to, 0)
          envelope.writeUInt32LE(p.incarnation, 4)
          envelope.writeUInt32LE(index, 8)
          for (let i = 12; i < e.size; i++) envelope[i] = (e.to * 31 + index * 17 + i) & 0xff
          const msg: Submitted = { key: `${p.key}:${index}`, origin: p.key, originId: e.to, envelope, deliveryClass: e.deliveryClass, index, at: e.at }
          this.submitted.set(msg.key, msg)
          this.pendingSubmit = msg
          this.apply(e.to, this.step(e.to, p.engine, { _tag: "Submit", now: e.at, envelope, deliveryClass: e.deliveryClass }))
          this.pendingSubmit = undefined
          break
        }
      }
    }
    return this
  }

  /** One engine step, through the optional observer. */
  private step(id: number, engine: RingEngine, input: RingInput): Array<RingOutput> {
    const hook = this.options.onStep
    return hook === undefined ? engine.step(input) : hook(id, engine, input, () => engine.step(input))
  }

  private connected(a: number, b: number): boolean {
    return (this.components.get(a) ?? 0) === (this.components.get(b) ?? 0)
  }

  private send(from: number, to: number, channel: Channel, bytes: Buffer): void {
    this.stats.datagrams++
    if (!this.connected(from, to)) return
    const f = this.options.faults
    const faulty = this.now < this.options.faultsUntil
    if (faulty && this.options.blocked?.(from, to, channel, this.now, bytes) === true) {
      this.stats.lost++
      return
    }
    const late = faulty ? this.options.lateCopy?.(from, to, channel, this.now, bytes) : undefined
    if (late !== undefined) this.schedule({ at: this.now + late, order: 0, kind: "packet", to, channel, from, bytes: Buffer.from(bytes) })
    const copies = faulty && this.rng.next() < f.duplicate ? 2 : 1
    if (copies === 2) this.stats.duplicated++
    for (let i = 0; i < copies; i++) {
      if (faulty && this.rng.next() < f.loss) {
        this.stats.lost++
        continue
      }
      const delay = faulty ? f.minDelay + this.rng.next() * (f.maxDelay - f.minDelay) : f.minDelay
      // The driver hands the core its own copy of every datagram (no shared mutable buffers).
      this.schedule({ at: this.now + delay, order: 0, kind: "packet", to, channel, from, bytes: Buffer.from(bytes) })
    }
  }

  private apply(id: number, outs0: Array<RingOutput>): void {
    const proc = this.procs.get(id)!
    const outs = this.options.mutateOutputs ? this.options.mutateOutputs(id, outs0, this.rng) : outs0
    const log = this.logs.get(proc.key)!
    const engine = proc.engine
    for (const o of outs) {
      switch (o._tag) {
        case "SendUnicast":
          this.send(id, o.to, o.channel, o.bytes)
          break
        case "SendMulticast": {
          const targets = o.scope === "RING" ? engine.ringMembers : engine.configuredIds
          for (const to of targets) if (to !== id) this.send(id, to, o.channel, o.bytes)
          break
        }
        case "SetTimer":
          this.latestGen.set(`${id}#${proc.incarnation}/${o.timer}`, o.generation)
          this.schedule({ at: this.now + o.delay, order: 0, kind: "timer", to: id, incarnation: proc.incarnation, timer: o.timer, generation: o.generation })
          break
        case "CancelTimer":
          this.latestGen.delete(`${id}#${proc.incarnation}/${o.timer}`)
          break
        case "PersistRingSeq":
          this.persisted.set(id, Math.max(this.persisted.get(id) ?? 0, o.seq))
          break
        case "Install":
          log.push({
            type: "install", t: this.now, configId: o.configId, members: o.members,
            procs: o.members.map((m, i) => procKey(m, o.incarnations[i]!))
          })
          // The group layer's part (§8.6), simplified: open the gate at once after a regular install.
          if (o.kind === "REG") this.apply(id, this.step(id, engine, { _tag: "SetDeliveryGate", now: this.now, gate: "OPEN" }))
          break
        case "Deliver": {
          const key = `${o.envelope.readUInt32LE(0)}#${o.envelope.readUInt32LE(4)}:${o.envelope.readUInt32LE(8)}`
          log.push({ type: "deliver", t: this.now, key, originatorId: o.originatorId, deliveryClass: o.deliveryClass, configId: o.configId, ord: o.ord, envelope: o.envelope })
          if (o.deliveryClass === "SAFE" && o.configId.kind === "REG") this.checkSafeNow(id, o.configId, o.ord, key)
          break
        }
        case "Trace": {
          const ev = o.event
          if (ev.type === "submit") {
            if (this.pendingSubmit !== undefined) proc.serialKey.set(ev.msgSerial, this.pendingSubmit.key)
          } else if (ev.type === "send") {
            const key = proc.serialKey.get(ev.msgSerial) ?? `?${proc.key}:${ev.msgSerial}`
            log.push({ type: "send", t: this.now, key, configId: ev.configId, ord: ev.ord })
          } else if (ev.type === "invariant") {
            this.live.push({ property: "invariant", detail: `${proc.key}: ${ev.what}` })
          } else if (ev.type === "tokenLoss" && this.options.boot !== "alone" && this.options.processFaults === undefined) {
            this.live.push({ property: "tokenLoss", detail: `${proc.key} at ${this.now}` })
          }
          break
        }
        case "SubmitRefused":
          this.live.push({ property: "refused", detail: `${proc.key}: ${o.reason}` })
          break
        case "Exit":
          this.retire(id)
          break
        default:
          break
      }
    }
  }

  /**
   * D7 (evs-properties §2), checked with the simulator's global view: when p delivers a SAFE
   * message at seq s in a regular configuration, every member still in that ring holds s.
   */
  private checkSafeNow(p: number, c: ConfigurationId, ord: Ord, key: MsgKey): void {
    for (const [q, proc] of this.procs) {
      const r = proc.engine.ring
      if (q === p || r === undefined || r.ringId.seq !== c.seq || r.ringId.rep !== c.rep) continue
      if (!r.holds(ord.seq)) {
        this.live.push({ property: "D7.1", detail: `${p} delivered SAFE ${key} (seq ${ord.seq}) at t=${this.now.toFixed(2)} but ${q} does not hold it` })
      }
    }
  }
}

const addressOf = (id: number): string => `10.0.${Math.floor(id / 250)}.${id % 250}`
