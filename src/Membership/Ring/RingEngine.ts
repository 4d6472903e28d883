/**
 * The sans-IO ring engine (daemon-protocol §3): `step(input) → outputs`. It owns the daemon's
 * send queue, the timers, the self-hand-off (§6.11.1), the packet acceptance checks of §4.1 and
 * §11.4, and dispatches to {@link Membership} (§6), which owns the rings' {@link Ordering} state
 * (§5). Deterministic: no clock, socket or `Math.random` inside.
 */
import { DATA_FIXED_LENGTH } from "../../Protocol/Ring/DataPacket.js"
import { encodeConfigMismatch } from "../../Protocol/Ring/ControlPackets.js"
import { type CommonHeader, HEADER_LENGTH, type HeaderStamp, PROTOCOL_VERSION } from "../../Protocol/Ring/Header.js"
import { decodeRingPacket } from "../../Protocol/Ring/index.js"
import { ringIdEquals } from "../../Protocol/Ring/RingId.js"
import { Counters, type SelfItem } from "./Env.js"
import { Membership, type MembershipEnv } from "./Membership.js"
import { classCodeOf, type Ordering } from "./Ordering.js"
import { Prng } from "./Prng.js"
import { classifyReload } from "./Reload.js"
import { checkRingConfig, maxFragmentLength, type RingConfig, type RingDaemon } from "./RingConfig.js"
import { SendQueue } from "./SendQueue.js"
import type { Channel, ReloadOutcome, RingInput, RingOutput, SendPath, TimerName } from "./Types.js"

/**
 * §5.11: beyond `SendQueueHighWater` the engine asks the driver to pause client reads; a driver
 * that keeps submitting anyway (or internal messages of the group layer) may go this many times
 * over before Submit is refused, so the queue stays bounded.
 */
export const SEND_QUEUE_HARD_FACTOR = 4

/** §11.5: at most one CONFIG_MISMATCH notice per daemon per this many ms. */
export const CONFIG_MISMATCH_INTERVAL = 10_000

/** §9.5: the exit code when a reload changes this daemon's own identity (`EX_CONFIG` of sysexits.h). */
export const RELOAD_EXIT_CODE = 78

export type EngineState = "BOOT" | "OPERATIONAL" | "GATHER" | "COMMIT" | "RECOVERY" | "EXITED"

export interface RingEngineOptions {
  /** Emit `Trace(submit/send)` for every message (default true; the checker needs them). */
  readonly traceSends?: boolean
}

export class RingEngine implements MembershipEnv {
  readonly counters = new Counters()
  /** Client messages, and the groups queue of §8.6 (`GROUPS_STATE`), which goes first. */
  private readonly clientQueue: SendQueue
  private readonly groupsQueue: SendQueue
  private sendPath: SendPath = "CLIENTS"
  readonly traceSends: boolean
  /** Mutable: the incarnation comes with Init, the hash and CRC flag with a reload (§9.5). */
  readonly stamp: { -readonly [K in keyof HeaderStamp]: HeaderStamp[K] }
  configuredIds: ReadonlyArray<number>
  readonly membership: Membership
  incarnation = 0
  now = 0
  prng: Prng = new Prng(0)
  private booted = false
  private exited = false

  private out: Array<RingOutput> = []
  private readonly byId = new Map<number, RingDaemon>()
  /** §11.4 `maxInc[id]`. */
  private readonly maxInc = new Map<number, number>()
  private readonly timerGen = new Map<TimerName, number>()
  private readonly armed = new Set<TimerName>()
  /** §6.11.1: items handed to myself, one per `SelfHandoff` fire. */
  private readonly selfQueue: Array<SelfItem> = []
  private serial = 0
  private paused = false
  /** §11.6: when I last sent CONFIG_MISMATCH to each daemon. */
  private readonly mismatchSent = new Map<number, number>()
  /** §11.6: when I last reported a foreign configuration from each source address. */
  private readonly mismatchReported = new Map<string, number>()

  private currentConfig: RingConfig
  /** §9.5: a reload that waits for OPERATIONAL (the latest one wins). */
  private pendingConfig: RingConfig | undefined
  /** §9.5: a reload isolates me (singleton partition) until my singleton ring is installed. */
  private isolated = false

  constructor(config: RingConfig, readonly myId: number, options: RingEngineOptions = {}) {
    this.currentConfig = config
    const errors = checkRingConfig(config)
    if (errors.length > 0) throw new Error(`invalid ring configuration: ${errors.join("; ")}`)
    this.configuredIds = this.indexDaemons(config)
    if (!this.byId.has(myId)) throw new Error(`daemon ${myId} is not configured`)
    this.traceSends = options.traceSends ?? true
    const packetRoom = config.maxPacketSize - HEADER_LENGTH - DATA_FIXED_LENGTH
    this.clientQueue = new SendQueue(maxFragmentLength(config), packetRoom)
    this.groupsQueue = new SendQueue(maxFragmentLength(config), packetRoom)
    this.stamp = { configHash: config.configHash, senderId: myId, senderIncarnation: 0, crc: config.crc }
    this.membership = new Membership(this)
  }

  /** The state of §6.2 (BOOT before Init, EXITED after Shutdown). */
  get state(): EngineState {
    if (this.exited) return "EXITED"
    if (!this.booted) return "BOOT"
    return this.membership.state
  }

  /** My installed ring (undefined before Init). */
  get ring(): Ordering | undefined {
    return this.booted ? this.membership.ring : undefined
  }

  /** The members a `SendMulticast(RING)` reaches now (§3.2): the new ring during recovery. */
  get ringMembers(): ReadonlyArray<number> {
    return this.booted ? this.membership.currentRing.members : [this.myId]
  }

  rankOf(id: number): number {
    return this.byId.get(id)?.rank ?? Number.MAX_SAFE_INTEGER
  }

  /** The rank of a configured daemon, undefined for one that is not (any more) configured. */
  configuredRank(id: number): number | undefined {
    return this.byId.get(id)?.rank
  }

  private indexDaemons(config: RingConfig): ReadonlyArray<number> {
    this.byId.clear()
    for (const d of config.daemons) this.byId.set(d.id, d)
    return config.daemons.map((d) => d.id)
  }

  get config(): RingConfig {
    return this.currentConfig
  }

  /** The §2.4 wire serial of the last message a `Submit` accepted (0 before any). */
  get lastSerial(): number {
    return this.serial >>> 0
  }

  /**
   * §10 `MON_FLOW_CONTROL`: new windows at run time (absent = unchanged). Refused (false) when the
   * result breaks the §5.9/§5.10 order; the monitor handler also bounds `window` by §4.8.1.
   */
  setWindows(w: { readonly window?: number; readonly personal?: number; readonly accelerated?: number }): boolean {
    const next: RingConfig = {
      ...this.currentConfig,
      window: w.window ?? this.currentConfig.window,
      personalWindow: w.personal ?? this.currentConfig.personalWindow,
      acceleratedWindow: w.accelerated ?? this.currentConfig.acceleratedWindow
    }
    if (checkRingConfig(next).length > 0) return false
    this.currentConfig = next
    return true
  }

  // ---------------------------------------------------------------------------------------------
  // Env

  get sendQueue(): SendQueue {
    return this.sendPath === "GROUPS" || this.groupsQueue.length > 0 ? this.groupsQueue : this.clientQueue
  }
  restartPartialSends(): void {
    this.clientQueue.restartPartial()
    this.groupsQueue.restartPartial()
  }

  emit(o: RingOutput): void {
    this.out.push(o)
  }
  setTimer(timer: TimerName, delay: number): void {
    const g = (this.timerGen.get(timer) ?? 0) + 1
    this.timerGen.set(timer, g)
    this.armed.add(timer)
    this.out.push({ _tag: "SetTimer", timer, delay, generation: g })
  }
  cancelTimer(timer: TimerName): void {
    if (!this.armed.delete(timer)) return
    this.timerGen.set(timer, (this.timerGen.get(timer) ?? 0) + 1)
    this.out.push({ _tag: "CancelTimer", timer })
  }
  handOffToSelf(item: SelfItem): void {
    this.selfQueue.push(item)
    if (!this.armed.has("SelfHandoff")) this.setTimer("SelfHandoff", 0)
  }
  onQueueDrained(): void {
    if (this.paused) {
      this.paused = false
      this.out.push({ _tag: "ResumeClientReads" })
    }
  }
  onRegularInstall(): void {
    // §9.5: the singleton of an isolating reload is installed: clear the partition; merges
    // follow from probes and foreign evidence (§6.12). A deferred reload goes next.
    this.isolated = false
    if (this.pendingConfig !== undefined) this.setTimer("Reload", 0)
  }

  // ---------------------------------------------------------------------------------------------
  // step

  step(input: RingInput): Array<RingOutput> {
    this.out = []
    if (this.exited) return this.out
    this.now = input.now
    if (!this.booted && input._tag !== "Init") {
      if (input._tag === "Submit") this.submit(input)
      else if (input._tag === "Reconfigure") this.pendingConfig = input.config
      return this.out
    }
    switch (input._tag) {
      case "Init":
        if (!this.booted) {
          this.booted = true
          this.incarnation = input.incarnation
          this.stamp.senderIncarnation = input.incarnation
          this.prng = new Prng(input.seed)
          this.membership.boot(input.ringSeqFloor, input.fixedRing)
        }
        break
      case "PacketReceived":
        if (this.isolated) this.counters.isolated++
        else this.onPacket(input.bytes, input.source, input.channel)
        break
      case "TimerFired":
        this.onTimer(input.timer, input.generation)
        break
      case "Submit":
        this.submit(input)
        break
      case "SetSendPath":
        this.sendPath = input.path
        if (this.membership.state === "OPERATIONAL" && this.sendQueue.length > 0) this.membership.ring.onQueueNonEmpty()
        break
      case "SetDeliveryGate":
        if (this.membership.state === "OPERATIONAL") {
          this.membership.ring.gate = input.gate
          this.membership.ring.orderedWalk()
        }
        break
      case "Shutdown":
        this.exit(0)
        break
      case "Reconfigure":
        this.reconfigure(input.config)
        break
    }
    return this.out
  }

  /** §6.13: leave the ring (LEAVE when OPERATIONAL), then the driver exits with `code`. */
  private exit(code: number): void {
    this.membership.shutdown()
    this.exited = true
    this.out.push({ _tag: "Exit", code })
  }

  // ---------------------------------------------------------------------------------------------
  // reload (§9.5)

  private traceReload(outcome: ReloadOutcome, detail: string): void {
    this.out.push({ _tag: "Trace", event: { type: "reload", outcome, detail } })
  }

  /** §9.5, §6.15 `OPERATIONAL | monitor RELOAD`; in any other state it waits for the next install. */
  private reconfigure(config: RingConfig): void {
    if (this.membership.state !== "OPERATIONAL") {
      this.pendingConfig = config
      this.traceReload("deferred", `${this.membership.state}: applied once the membership change installs a ring`)
      return
    }
    this.pendingConfig = undefined
    const change = classifyReload(this.currentConfig, config, this.myId)
    switch (change._tag) {
      case "Refused":
        return this.traceReload("refused", change.reason)
      case "Fatal":
        this.traceReload("fatal", change.reason)
        return this.exit(RELOAD_EXIT_CODE)
      case "Settings":
        this.adopt(config)
        return this.traceReload("settings", "same daemons and hash: windows and timeouts from the file")
      case "Membership": {
        const detail = `added ${change.added.length}, removed ${change.removed.length} daemons` +
          (config.configHash === this.currentConfig.configHash ? "" : "; new configuration hash")
        this.adopt(config)
        this.traceReload("membership", detail)
        return this.membership.reload(false)
      }
      case "Isolate":
        this.adopt(config)
        this.traceReload("isolate", change.reason)
        this.isolated = true
        return this.membership.reload(true)
    }
  }

  /** The engine runs on `config` from now on; the driver hears of it first (routes, §9.2). */
  private adopt(config: RingConfig): void {
    this.out.push({ _tag: "Reconfigured", config })
    this.currentConfig = config
    this.configuredIds = this.indexDaemons(config)
    this.stamp.configHash = config.configHash
    this.stamp.crc = config.crc
  }

  private submit({ deliveryClass, encode, envelope, path }: Extract<RingInput, { _tag: "Submit" }>): void {
    const q = path === "GROUPS" ? this.groupsQueue : this.clientQueue
    if (envelope.length > this.config.maxMessageSize) {
      this.out.push({ _tag: "SubmitRefused", reason: "message larger than MaxMessageSize", bytes: envelope.length })
      return
    }
    if (q.length >= this.config.sendQueueHighWater * SEND_QUEUE_HARD_FACTOR) {
      this.out.push({ _tag: "SubmitRefused", reason: "send queue full", bytes: envelope.length })
      return
    }
    const wasIdle = this.sendQueue.length === 0
    this.serial++
    q.push(this.serial, envelope, classCodeOf(deliveryClass), encode)
    if (this.traceSends) {
      this.out.push({ _tag: "Trace", event: { type: "submit", msgSerial: this.serial, bytes: envelope.length, deliveryClass } })
    }
    if (!this.paused && q.length >= this.config.sendQueueHighWater) {
      this.paused = true
      this.out.push({ _tag: "PauseClientReads" })
    }
    if (wasIdle && this.sendQueue.length > 0 && this.booted && this.membership.state === "OPERATIONAL") {
      this.membership.ring.onQueueNonEmpty()
    }
  }

  // ---------------------------------------------------------------------------------------------
  // packets

  /** §4.1 acceptance checks that need the configuration, and §11.4 stale incarnations. */
  private accept(h: CommonHeader, source: string): boolean {
    const c = this.counters
    if (h.configHash !== this.config.configHash) {
      c.wrongConfig++
      this.reportMismatch(h, source)
      this.noticeMismatch(h, source)
      return false
    }
    if (h.senderId === this.myId) return (c.ownPacket++, false)
    const d = this.byId.get(h.senderId)
    if (d === undefined) return (c.notConfigured++, false)
    if (d.address !== source) return (c.wrongSource++, false)
    const known = this.maxInc.get(h.senderId) ?? 0
    if (h.senderIncarnation < known) return (c.staleIncarnation++, false)
    if (h.senderIncarnation > known) {
      this.maxInc.set(h.senderId, h.senderIncarnation)
      if (known !== 0) this.membership.onNewerIncarnation({ id: h.senderId, incarnation: h.senderIncarnation })
      else {
        const inRing = this.membership.ring.incarnationOf(h.senderId)
        if (inRing !== undefined && inRing < h.senderIncarnation) {
          this.membership.onNewerIncarnation({ id: h.senderId, incarnation: h.senderIncarnation })
        }
      }
    }
    return true
  }

  /** §11.6: the operator hears of a foreign configuration (rate-limited per source). */
  private reportMismatch(h: CommonHeader, source: string): void {
    const last = this.mismatchReported.get(source)
    if (last !== undefined && this.now - last < CONFIG_MISMATCH_INTERVAL) return
    this.mismatchReported.set(source, this.now)
    this.out.push({ _tag: "Trace", event: { type: "configMismatch", source, senderId: h.senderId, hash: h.configHash } })
  }

  /** §11.6: tell a configured daemon (rate-limited) that our configurations differ. */
  private noticeMismatch(h: CommonHeader, source: string): void {
    const d = this.byId.get(h.senderId)
    if (d === undefined || d.id === this.myId || d.address !== source || h.type === 0x14) return
    const last = this.mismatchSent.get(d.id)
    if (last !== undefined && this.now - last < CONFIG_MISMATCH_INTERVAL) return
    this.mismatchSent.set(d.id, this.now)
    this.out.push({ _tag: "SendUnicast", to: d.id, channel: "DATA", bytes: encodeConfigMismatch(this.stamp, this.config.configHash, PROTOCOL_VERSION) })
  }

  private onPacket(bytes: Buffer, source: string, channel: Channel): void {
    const r = decodeRingPacket(bytes)
    if (!r.ok) {
      if (r.reason === "version") this.counters.wrongVersion++
      else this.counters.malformed++
      return
    }
    const h = r.header
    if (!this.accept(h, source)) return
    const m = this.membership
    m.reach.heard(h.senderId, channel, this.now) // §6.5
    const q = { id: h.senderId, incarnation: h.senderIncarnation }
    const body = r.body
    switch (body._tag) {
      case "DATA":
        this.counters.packetsReceived++
        // Decision (§11.4): the originator's incarnation is checked against the ring's member
        // list (Ordering), not against maxInc: recovery must still exchange old-ring packets of
        // a crashed incarnation (§6.7) after its successor has been heard from.
        m.onData(h, body.data, bytes)
        return
      case "TOKEN": {
        const t = body.token
        const mine = m.state === "RECOVERY" ? m.currentRing.ringId : m.ring.ringId
        if (ringIdEquals(t.ringId, mine)) m.onToken(h.senderId, t, false)
        else {
          this.counters.tokensDropped++
          m.onForeignToken(q, t)
        }
        return
      }
      case "TOKEN_REQUEST":
        if (m.state === "OPERATIONAL" && m.ring.isLeader && ringIdEquals(body.ringId, m.ring.ringId)) m.ring.onTokenRequest()
        return
      case "JOIN":
        m.onJoin(h, body.join)
        return
      case "COMMIT":
        m.onCommit(body.commit)
        return
      case "PROBE":
        m.onProbe(q, body.ringId)
        return
      case "LEAVE":
        m.onLeave(q, body.ringId)
        return
      case "CONFIG_MISMATCH":
        // §11.6: the peer's operator is told; ours only counts it.
        this.counters.wrongConfig++
        return
    }
  }

  // ---------------------------------------------------------------------------------------------
  // timers

  private onTimer(timer: TimerName, generation: number): void {
    if (!this.armed.has(timer) || this.timerGen.get(timer) !== generation) return
    this.armed.delete(timer)
    const m = this.membership
    switch (timer) {
      case "SelfHandoff": {
        const item = this.selfQueue.shift()
        if (this.selfQueue.length > 0) this.setTimer("SelfHandoff", 0)
        if (item === undefined) return
        if (item._tag === "TOKEN") m.onToken(this.myId, item.token, true)
        else m.onCommit(item.commit)
        return
      }
      case "TokenRetransmit":
        if (m.state === "OPERATIONAL") m.ring.onTokenRetransmitTimer()
        else if (m.state === "RECOVERY" && m.currentRing.hasSavedToken) m.currentRing.onTokenRetransmitTimer()
        else m.onCommitRetransmitTimer()
        return
      case "TokenHold":
        if (m.state === "OPERATIONAL") m.ring.release(false)
        return
      case "TokenLoss":
        m.onTokenLoss()
        return
      case "Join":
        m.onJoinTimer()
        return
      case "Consensus":
        m.onConsensusTimer()
        return
      case "Commit":
        m.onCommitTimer()
        return
      case "Probe":
        m.onProbeTimer()
        return
      case "Reload":
        if (this.pendingConfig !== undefined) this.reconfigure(this.pendingConfig)
        return
    }
  }
}
