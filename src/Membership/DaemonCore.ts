/**
 * The daemon's sans-IO core (daemon-protocol §3): client sessions and their names (§8.1), the
 * process-group layer ({@link GroupTable}, §8) and the ring engine ({@link RingEngine}, §4–§7),
 * wired together. One code path whether the configuration names one daemon or 128: a lone
 * daemon is a ring of one whose token it hands to itself (§6.11.1).
 *
 * Every client operation becomes a §4.4 envelope submitted to the ring; nothing reaches a
 * session until the ring delivers it, so every daemon applies joins, leaves, kills and data in
 * the one total order (§8.2) and every receiver sees one interleaving of data and views.
 *
 * It reads no clock or socket and has no randomness of its own (a seeded PRNG). Time comes with
 * the driver's inputs ({@link DaemonCore.packet}, {@link DaemonCore.timer}, {@link DaemonCore.tick});
 * a client request carries the time of the latest one (only the ring's rate limits read it).
 * Effects go out through {@link CoreSink}.
 */
import {
  AGREED_MESS,
  CAUSAL_MESS,
  encodeDataDelivery,
  FIFO_MESS,
  privateGroupOf,
  SAFE_MESS,
  SELF_DISCARD
} from "../Protocol/index.js"
import { decodeEnvelope, type Envelope, encodeEnvelope, envelopeLength } from "../Protocol/Ring/Envelope.js"
import { GroupTable, type LocalMember } from "./Groups.js"
import { Prng } from "./Ring/Prng.js"
import type { RingConfig } from "./Ring/RingConfig.js"
import { RingEngine, type RingEngineOptions } from "./Ring/RingEngine.js"
import type { DeliveryClass, RingInput, RingOutput, TimerName } from "./Ring/Types.js"

/** The ring's outputs the driver performs: sockets, timers, durable state, exit, a reloaded configuration. */
export type DriverOutput = Extract<
  RingOutput,
  { readonly _tag: "SendUnicast" | "SendMulticast" | "SetTimer" | "CancelTimer" | "PersistRingSeq" | "ReadPriority" | "Exit" | "Reconfigured" }
>

/** Things worth a log line (the driver decides the level). */
export type CoreEvent =
  | { readonly _tag: "Installed"; readonly kind: "REG" | "TRANS"; readonly seq: number; readonly rep: number; readonly members: ReadonlyArray<number> }
  | { readonly _tag: "SubmitRefused"; readonly sessionId: number | undefined; readonly reason: string }
  | { readonly _tag: "BadEnvelope"; readonly from: number; readonly reason: string }
  | { readonly _tag: "Trace"; readonly output: Extract<RingOutput, { readonly _tag: "Trace" }> }

export interface CoreSink {
  /**
   * Queue one whole client message for a session. `fromSession` is the local session that sent
   * it, if any, so that a congested receiver can hold its sender back.
   */
  deliver(sessionId: number, bytes: Buffer, fromSession?: number): void
  /** The session's kill has been delivered: drop what is queued for it and close its socket. */
  close(sessionId: number): void
  /** Stop (true) or resume (false) reading client sockets (§5.11 back-pressure, §8.6 exchange). */
  pauseClientReads(paused: boolean): void
  perform(output: DriverOutput): void
  event(e: CoreEvent): void
}

export interface CoreInit {
  readonly daemonName: string
  /** Daemon id (daemon-protocol §2.1). */
  readonly daemonId: number
  readonly ring: RingConfig
  /** §2.2 */
  readonly incarnation: number
  /** Ring seqs start above this (daemon-protocol §6.10). */
  readonly ringSeqFloor: number
  readonly seed: number
  readonly now: number
  readonly engine?: RingEngineOptions
}

interface Session extends LocalMember {
  readonly id: number
  readonly privateName: string
  groupMembership: boolean
  /** `killed`: disconnected, its name reserved until its SESSION_KILL is delivered (§8.2). */
  state: "pending" | "open" | "killed"
  /** Last delivery stamp, so a multi-group message reaches a session once (§8.9). */
  stamp: number
}

/**
 * The stand-in bytes of a local message's envelope (see `submit`): never read, so one shared
 * buffer serves them all; larger than any client message (client-protocol §1, ≈ 143 KB).
 */
const ENVELOPE_STAND_IN = Buffer.alloc(256 * 1024)

/** The reference invents `"r" + random(0..9998) + "-" + fd`, cut to 9 characters (client-protocol §3.3). */
const INVENTED_NAME_LENGTH = 9
const INVENTED_NAME_RANGE = 9999

/** §5.8: the delivery class of a client service. */
export const deliveryClassOf = (service: number): DeliveryClass =>
  (service & SAFE_MESS) !== 0
    ? "SAFE"
    : (service & (AGREED_MESS | CAUSAL_MESS | FIFO_MESS)) !== 0
    ? "ORDERED"
    : "RELIABLE"

interface Queued {
  readonly input: RingInput
  /** The session a Submit is for, so a refusal ends that session. */
  readonly sessionId: number | undefined
  /** A client message's own delivery form, kept for its delivery here. */
  readonly local?: LocalData
}

/**
 * A data message of a local session as its receivers here get it: when the ring delivers it back
 * to this daemon, routing uses this instead of decoding the envelope and encoding the message
 * again (every message of a lone daemon, the sender's share of a ring's).
 */
interface LocalData {
  readonly envelope: Envelope
  /** The client message in delivery form (client-protocol §6.1). */
  readonly bytes: Buffer
}

export class DaemonCore {
  readonly engine: RingEngine
  readonly groups: GroupTable
  private readonly sessions = new Map<number, Session>()
  private readonly byName = new Map<string, Session>()
  /** The same sessions by private group, the form every envelope names them in. */
  private readonly byPrivateGroup = new Map<string, Session>()
  private readonly prng: Prng
  private stamp = 0
  private now: number
  private readonly queue: Array<Queued> = []
  /** My data messages in the ring, by wire serial, until delivered (see {@link LocalData}). */
  private readonly pendingLocal = new Map<number, LocalData>()
  private running = false
  /** Why client reads are paused: the ring's send queue is full, or a GROUPS exchange runs. */
  private queueFull = false
  private exchanging = false
  private paused = false
  /** Regular configurations installed (the monitor's "membership changes"). */
  regularInstalls = 0

  constructor(private readonly init: CoreInit, private readonly sink: CoreSink) {
    this.prng = new Prng(init.seed)
    this.now = init.now
    this.engine = new RingEngine(init.ring, init.daemonId, init.engine)
    // The engine's ranks: a reload (§9.5) changes them, and the group layer follows.
    this.groups = new GroupTable({ myDaemonId: init.daemonId, rankOf: (id) => this.engine.configuredRank(id) }, {
      send: (member, bytes) => {
        const s = member as Session
        if (s.state === "open") sink.deliver(s.id, bytes)
      },
      submitGroupsState: (payload) =>
        this.submit(
          { kind: "GROUPS_STATE", service: 0, messType: 0, senderBigEndian: false, sender: "", groups: [], payload },
          "ORDERED",
          undefined,
          "GROUPS"
        ),
      pauseClients: () => {
        this.exchanging = true
        this.feed({ _tag: "SetSendPath", now: this.now, path: "GROUPS" }, undefined)
        this.updatePause()
      },
      resumeClients: () => {
        this.exchanging = false
        this.feed({ _tag: "SetSendPath", now: this.now, path: "CLIENTS" }, undefined)
        this.feed({ _tag: "SetDeliveryGate", now: this.now, gate: "OPEN" }, undefined)
        this.updatePause()
      },
      groupsStateRejected: (from, error) => sink.event({ _tag: "BadEnvelope", from, reason: error.message })
    })
  }

  get daemonName(): string {
    return this.init.daemonName
  }

  get sessionCount(): number {
    return this.sessions.size
  }

  // -------------------------------------------------------------------------------------------
  // Driver inputs (§3.1)

  /** `Init`: boot alone (§6.11) and merge with whoever answers. */
  start(): void {
    this.feed({ _tag: "Init", now: this.now, incarnation: this.init.incarnation, ringSeqFloor: this.init.ringSeqFloor, seed: this.init.seed }, undefined)
  }

  packet(now: number, channel: "DATA" | "TOKEN", source: string, bytes: Buffer): void {
    this.now = now
    this.feed({ _tag: "PacketReceived", now, channel, source, bytes }, undefined)
  }

  timer(now: number, timer: TimerName, generation: number): void {
    this.now = now
    this.feed({ _tag: "TimerFired", now, timer, generation }, undefined)
  }

  /** Advances the core's notion of time without an event (the driver calls it per turn). */
  tick(now: number): void {
    this.now = now
  }

  /** A re-read configuration file (daemon-protocol §9.5). */
  reconfigure(now: number, config: RingConfig): void {
    this.now = now
    this.feed({ _tag: "Reconfigure", now, config }, undefined)
  }

  /** Graceful leave (§6.13). */
  shutdown(now: number): void {
    this.now = now
    this.feed({ _tag: "Shutdown", now }, undefined)
  }

  // -------------------------------------------------------------------------------------------
  // Sessions (client-protocol §3.3, §8)

  /**
   * Reserves a private name during the handshake (client-protocol §3.3 step 5–6): undefined if
   * another session, live or still being killed, holds it. An empty name gets an invented one.
   */
  reserveName(sessionId: number, requested: string): string | undefined {
    const name = requested === "" ? this.inventName(sessionId) : requested
    if (this.byName.has(name) || this.sessions.has(sessionId)) return undefined
    const session: Session = {
      id: sessionId,
      privateName: name,
      privateGroup: privateGroupOf(name, this.init.daemonName),
      groupMembership: false,
      state: "pending",
      stamp: 0
    }
    this.sessions.set(sessionId, session)
    this.byName.set(name, session)
    this.byPrivateGroup.set(session.privateGroup, session)
    return name
  }

  private inventName(sessionId: number): string {
    for (;;) {
      const name = `r${this.prng.int(INVENTED_NAME_RANGE)}-${sessionId}`.slice(0, INVENTED_NAME_LENGTH)
      if (!this.byName.has(name)) return name
    }
  }

  /** The handshake succeeded: the session is operational (client-protocol §8.1). */
  open(sessionId: number, groupMembership: boolean): void {
    const s = this.sessions.get(sessionId)
    if (s === undefined || s.state !== "pending") return
    s.groupMembership = groupMembership
    s.state = "open"
  }

  /** The private group of a session, as the sender-name check needs it (client-protocol §5.3). */
  privateGroup(sessionId: number): string | undefined {
    return this.sessions.get(sessionId)?.privateGroup
  }

  /**
   * A data message (client-protocol §5): ordered by its service's class (§5.8). `delivery` is the
   * same message as its receivers get it (§6.1), used when it comes back to this daemon.
   */
  multicast(sessionId: number, message: Omit<Envelope, "kind" | "sender">, delivery: Buffer): void {
    const s = this.sessions.get(sessionId)
    if (s?.state !== "open") return
    const envelope: Envelope = { ...message, kind: "CLIENT_DATA", sender: s.privateGroup }
    this.submit(envelope, deliveryClassOf(message.service), sessionId, undefined, { envelope, bytes: delivery })
  }

  /** Join and leave are ordered operations (§8.2), applied when delivered (§8.5). */
  join(sessionId: number, group: string): void {
    this.groupOperation(sessionId, "GROUP_JOIN", group)
  }

  leave(sessionId: number, group: string): void {
    this.groupOperation(sessionId, "GROUP_LEAVE", group)
  }

  private groupOperation(sessionId: number, kind: "GROUP_JOIN" | "GROUP_LEAVE", group: string): void {
    const s = this.sessions.get(sessionId)
    if (s?.state !== "open") return
    this.submit(
      { kind, service: 0, messType: 0, senderBigEndian: false, sender: s.privateGroup, groups: [group], payload: EMPTY },
      "ORDERED",
      sessionId
    )
  }

  /**
   * Ends a session: a client's KILL_MESS (`requested`), or EOF, an error, a protocol violation or
   * a slow reader (client-protocol §8.1). A pending (handshaking) session just frees its name. An
   * operational one stops at once and is killed in order (§8.2: ORDERED when the client asked,
   * SAFE when the daemon detected it); its name stays reserved and its socket open until the
   * kill is delivered (5.0.1 closes after, client-protocol §8.7).
   */
  disconnect(sessionId: number, requested = false): void {
    const s = this.sessions.get(sessionId)
    if (s === undefined || s.state === "killed") return
    const wasOpen = s.state === "open"
    s.state = "killed"
    if (!wasOpen || this.engine.state === "EXITED") return this.forget(s)
    this.submit(
      { kind: "SESSION_KILL", service: 0, messType: 0, senderBigEndian: false, sender: s.privateGroup, groups: [], payload: EMPTY },
      requested ? "ORDERED" : "SAFE",
      undefined
    )
  }

  private forget(s: Session): void {
    this.sessions.delete(s.id)
    this.byName.delete(s.privateName)
    this.byPrivateGroup.delete(s.privateGroup)
    this.sink.close(s.id)
  }

  // -------------------------------------------------------------------------------------------
  // The ring

  private submit(
    envelope: Envelope,
    deliveryClass: DeliveryClass,
    sessionId: number | undefined,
    path?: "GROUPS",
    local?: LocalData
  ): void {
    const length = envelopeLength(envelope)
    // A message of mine is delivered here from `local`, never from its bytes, so a lone daemon
    // lets the ring encode it only if it must go to other daemons after all (Submit.encode):
    // a copy less per message, a quarter of the daemon's CPU at 10 KB. In a ring of several
    // it is encoded now, not during the token visit that sends it.
    const lone = this.engine.ringMembers.length === 1
    const input: RingInput = lone && local !== undefined && length <= ENVELOPE_STAND_IN.length
      ? { _tag: "Submit", now: this.now, envelope: ENVELOPE_STAND_IN.subarray(0, length), encode: () => encodeEnvelope(envelope), deliveryClass }
      : { _tag: "Submit", now: this.now, envelope: encodeEnvelope(envelope), deliveryClass }
    this.feed(path ? { ...input, path } : input, sessionId, local)
  }

  /**
   * One input at a time (§3.3 item 1): an input that handling an output produces (a GROUPS_STATE
   * submitted on install, a gate change) waits until every output of the current step is done.
   */
  private feed(input: RingInput, sessionId: number | undefined, local?: LocalData): void {
    this.queue.push(local === undefined ? { input, sessionId } : { input, sessionId, local })
    if (this.running) return
    this.running = true
    try {
      for (let q = this.queue.shift(); q !== undefined; q = this.queue.shift()) {
        const serial = this.engine.lastSerial
        const outputs = this.engine.step(q.input)
        if (q.local !== undefined && this.engine.lastSerial !== serial) this.pendingLocal.set(this.engine.lastSerial, q.local)
        for (let i = 0; i < outputs.length; i++) this.perform(outputs[i]!, q.sessionId)
      }
    } finally {
      this.running = false
    }
  }

  private perform(o: RingOutput, sessionId: number | undefined): void {
    switch (o._tag) {
      case "Deliver": {
        if (o.originatorId === this.init.daemonId && o.originatorIncarnation === this.init.incarnation) {
          const local = this.pendingLocal.get(o.msgSerial)
          if (local !== undefined) {
            this.pendingLocal.delete(o.msgSerial)
            return this.route(local.envelope, this.localSender(local.envelope.sender, o.originatorId), local.bytes)
          }
        }
        return this.delivered(o.originatorId, o.envelope)
      }
      case "Install":
        this.sink.event({ _tag: "Installed", kind: o.kind, seq: o.configId.seq, rep: o.configId.rep, members: o.members })
        if (o.kind === "TRANS") this.groups.installTransitional(o.configId, o.members)
        else {
          this.regularInstalls++
          this.groups.installRegular(o.configId, o.members)
        }
        return
      case "PauseClientReads":
      case "ResumeClientReads":
        this.queueFull = o._tag === "PauseClientReads"
        return this.updatePause()
      case "SubmitRefused": {
        this.sink.event({ _tag: "SubmitRefused", sessionId, reason: o.reason })
        if (sessionId !== undefined) this.disconnect(sessionId)
        return
      }
      case "Trace":
        return this.sink.event({ _tag: "Trace", output: o })
      default:
        return this.sink.perform(o)
    }
  }

  private updatePause(): void {
    const paused = this.queueFull || this.exchanging
    if (paused === this.paused) return
    this.paused = paused
    this.sink.pauseClientReads(paused)
  }

  /** A delivered envelope, in the EVS order of §7. */
  private delivered(originator: number, bytes: Buffer): void {
    const d = decodeEnvelope(bytes)
    if (!d.ok) return this.sink.event({ _tag: "BadEnvelope", from: originator, reason: d.error.message })
    const e = d.envelope
    switch (e.kind) {
      case "CLIENT_DATA":
        return this.route(e, this.localSender(e.sender, originator), undefined)
      case "GROUP_JOIN":
        if (e.groups.length !== 1) return this.sink.event({ _tag: "BadEnvelope", from: originator, reason: "join without one group" })
        return this.groups.join(e.sender, originator, e.groups[0]!, this.localSender(e.sender, originator))
      case "GROUP_LEAVE":
        if (e.groups.length !== 1) return this.sink.event({ _tag: "BadEnvelope", from: originator, reason: "leave without one group" })
        return this.groups.leave(e.sender, originator, e.groups[0]!)
      case "SESSION_KILL": {
        this.groups.kill(e.sender, originator)
        const s = this.localSender(e.sender, originator)
        if (s !== undefined) this.forget(s)
        return
      }
      case "GROUPS_STATE":
        return this.groups.groupsStateDelivered(originator, Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.length))
    }
  }

  /** The local session that sent an operation, if the originator is this daemon. */
  private localSender(privateGroup: string, originator: number): Session | undefined {
    return originator === this.init.daemonId ? this.byPrivateGroup.get(privateGroup) : undefined
  }

  /** §8.9: every local target once; the named private groups of this daemon; SELF_DISCARD. */
  private route(e: Envelope, sender: Session | undefined, delivery: Buffer | undefined): void {
    const stamp = ++this.stamp
    let bytes = delivery
    if (sender !== undefined && (e.service & SELF_DISCARD) !== 0) sender.stamp = stamp
    const to = (target: Session): void => {
      if (target.stamp === stamp || target.state !== "open") return
      target.stamp = stamp
      bytes ??= encodeDataDelivery(e)
      this.sink.deliver(target.id, bytes, sender?.id)
    }
    for (let i = 0; i < e.groups.length; i++) {
      const name = e.groups[i]!
      if (name.charCodeAt(0) === 0x23) {
        const target = this.privateTarget(name)
        if (target !== undefined) to(target)
        continue
      }
      const members = this.groups.localMembers(name)
      if (members === undefined) continue
      for (const member of members) to(member as Session)
    }
  }

  /** `#priv#<this daemon>` names a session here; anything else is not ours (client-protocol §8.4). */
  private privateTarget(name: string): Session | undefined {
    return this.byPrivateGroup.get(name)
  }
}

const EMPTY = new Uint8Array(0)
