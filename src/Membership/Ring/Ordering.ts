/**
 * The ordering engine of one regular ring (daemon-protocol §5): DATA receipt (§5.2), the token
 * visit (§5.3), the aru rule (§5.4), the safe point (§5.5), retransmission (§5.6), delivery
 * classes (§5.8), flow control (§5.9), accelerated ring (§5.10), token hold (§5.12) and token
 * retransmission (§5.13). One instance per ring; membership (§6) creates a new one at INSTALL
 * and keeps the previous one, frozen, as the old ring of a recovery.
 *
 * A ring of one uses the same code: a token addressed to myself is kept as `selfToken` and handed
 * back through the zero-delay `SelfHandoff` timer (§6.11.1, R2).
 */
import type { CommonHeader } from "../../Protocol/Ring/Header.js"
import { restampForRetransmission } from "../../Protocol/Ring/Header.js"
import { type ClassCode, type DataPacket, encodeDataPacket, isWholeMessage } from "../../Protocol/Ring/DataPacket.js"
import type { OldRingId, RingId } from "../../Protocol/Ring/RingId.js"
import { encodeTokenRequest } from "../../Protocol/Ring/ControlPackets.js"
import { encodeToken, rtrEntriesThatFit, type RtrEntry, type Token, TokenPhase } from "../../Protocol/Ring/TokenPacket.js"
import type { Env } from "./Env.js"
import { PacketStore, type StoredPacket } from "./PacketStore.js"
import { Reassembly } from "./Reassembly.js"
import { bufferCapacity, maxFragmentLength } from "./RingConfig.js"
import type { ConfigurationId, DeliveryClass } from "./Types.js"

/** The ring a token travels: who is where (for the §5.6 answerer hint during recovery). */
export interface Topology {
  readonly members: ReadonlyArray<number>
  readonly myIndex: number
}

export type Gate = "OPEN" | "ORDERED_ONLY" | "CLOSED"

const CLASS_NAMES: ReadonlyArray<DeliveryClass> = ["RELIABLE", "RELIABLE", "ORDERED", "SAFE"]
export const classCodeOf = (c: DeliveryClass): ClassCode => c === "RELIABLE" ? 1 : c === "ORDERED" ? 2 : 3
/** §4.5 `attempts` saturates at 255. */
const MAX_ATTEMPTS = 255
/** §11.3, §12.2 `FailToRecvRotations`: visits with the same stuck aru before self-exclusion. */
export const FAIL_TO_RECV_ROTATIONS = 200
/** §6.14: above this seq the leader drops the token to force a new ring (seqs never wrap). */
export const MAX_RING_SEQ = 2 ** 52
/** §4.5 `idle` saturates at 255. */
const MAX_IDLE = 255
const NONE = 0

export class Ordering {
  readonly configId: ConfigurationId
  /** The configuration deliveries are attributed to: `configId`, or the transitional one (§6.8 step 4). */
  deliveryConfig: ConfigurationId
  /** §6.10.1 R1: the ring id with the representative's incarnation, as JOIN and COMMIT name it. */
  readonly fullId: OldRingId
  /** Members' ids in rank (ring) order. */
  readonly members: ReadonlyArray<number>
  /** Incarnations of `members`, same order (§2.2; §11.4). */
  readonly memberIncarnations: ReadonlyArray<number>
  readonly myIndex: number
  readonly pred: number
  readonly succ: number
  readonly leader: number
  readonly store: PacketStore
  readonly reasm: Reassembly

  highSeq = 0
  myAru = 0
  stableAru = 0
  delivered = 0
  discarded = 0
  prevFwdAru = 0
  prevFwdSeq = 0
  lastHop = 0
  /** idle counter of the last accepted token (§5.12 release rule). */
  lastTokenIdle = 0
  myLastFcc = 0
  myLastBacklog = 0
  gate: Gate = "ORDERED_ONLY"
  /** §6.6 COLLECT step 2: no new DATA of this ring is accepted unless recovery asks for it. */
  frozen = false
  /** During the transitional walk incomplete messages are expected (§6.8 step 4): not violations. */
  private lenient = false

  /** Forwarded token kept for §5.13 retransmission, and its hop. */
  private savedToken: Buffer | undefined
  private savedHop = 0
  private retransmitsLeft = 0
  /** Delay before the next `TokenRetransmit`; doubles after each one for an idle token (§5.13 decision). */
  private retransmitDelay = 0
  /** The saved token was idle (`idle > 0`, §5.12) when forwarded. */
  private idleForward = false
  /** §5.12: the leader's held token. */
  private heldToken: Token | undefined
  /** §5.12: a TOKEN_REQUEST that arrived while not holding. */
  private pendingTokenRequest = false
  /** §5.6: consecutive visits each missing seq was requested. */
  private readonly attempts = new Map<number, number>()
  /** §11.3: the token aru as last seen, who holds it down, since when, for how many visits. */
  private stall = { aru: -1, aruId: 0, since: 0, visits: 0 }
  private readPriority: "DATA_FIRST" | "TOKEN_FIRST" = "DATA_FIRST"
  private readonly capacity: number

  constructor(
    private readonly env: Env,
    readonly ringId: RingId,
    members: ReadonlyArray<number>,
    memberIncarnations: ReadonlyArray<number>
  ) {
    this.members = members
    this.memberIncarnations = memberIncarnations
    this.myIndex = members.indexOf(env.myId)
    if (this.myIndex < 0) throw new Error("Ordering: I am not a member of my ring")
    const n = members.length
    this.pred = members[(this.myIndex + n - 1) % n]!
    this.succ = members[(this.myIndex + 1) % n]!
    this.leader = members[0]!
    this.configId = { kind: "REG", seq: ringId.seq, rep: ringId.rep }
    this.deliveryConfig = this.configId
    this.fullId = { seq: ringId.seq, rep: ringId.rep, repIncarnation: memberIncarnations[0]! }
    this.capacity = bufferCapacity(env.config)
    this.store = new PacketStore(this.capacity)
    this.reasm = new Reassembly(Math.ceil(env.config.maxMessageSize / maxFragmentLength(env.config)))
  }

  get isLeader(): boolean {
    return this.leader === this.env.myId
  }
  get ringSize(): number {
    return this.members.length
  }
  get holding(): boolean {
    return this.heldToken !== undefined
  }
  isMember(id: number): boolean {
    return this.members.includes(id)
  }
  incarnationOf(id: number): number | undefined {
    const i = this.members.indexOf(id)
    return i < 0 ? undefined : this.memberIncarnations[i]
  }
  /** §6.6: "I hold s" = stored, or already discarded (everyone had it). */
  holds(seq: number): boolean {
    return seq <= this.discarded || this.store.has(seq)
  }
  get hasSavedToken(): boolean {
    return this.savedToken !== undefined
  }

  // ---------------------------------------------------------------------------------------------
  // §5.2 receiving DATA of my ring

  onData(h: CommonHeader, p: DataPacket, bytes: Buffer): void {
    const env = this.env
    // §5.13: a packet created at my successor's visit proves it took my token.
    if (this.savedToken !== undefined && h.senderId === this.succ && p.originatorId === this.succ && p.hop >= this.savedHop + 1) {
      this.savedToken = undefined
      env.cancelTimer("TokenRetransmit")
    }
    // §5.10 AR hint: the predecessor started its next visit.
    if (env.config.acceleratedRing && this.readPriority === "DATA_FIRST" && p.originatorId === this.pred && p.hop > this.lastHop) {
      this.readPriority = "TOKEN_FIRST"
      env.emit({ _tag: "ReadPriority", priority: "TOKEN_FIRST" })
    }
    const seq = p.seq
    if (seq <= this.discarded || this.store.has(seq)) {
      env.counters.duplicates++
      return
    }
    if (this.incarnationOf(p.originatorId) !== p.originatorIncarnation) {
      env.counters.notMember++
      return
    }
    if (seq > this.discarded + this.capacity) {
      env.counters.beyondWindow++
      return
    }
    const before = this.myAru
    this.storePacket({ seq, bytes, packet: p, deliveredEarly: false })
    if (this.myAru > before) this.orderedWalk()
  }

  /** §5.2 steps 6–7 for received and own packets. */
  private storePacket(sp: StoredPacket): void {
    this.store.put(sp)
    if (sp.seq > this.highSeq) this.highSeq = sp.seq
    if (sp.seq === this.myAru + 1) {
      let a = sp.seq
      while (this.store.has(a + 1)) a++
      this.myAru = a
    }
    const p = sp.packet
    if (this.gate === "OPEN" && p.cls === 1 && p.chunks.every(isWholeMessage) && !this.walkReaches(sp.seq)) {
      sp.deliveredEarly = true
      for (let i = 0; i < p.chunks.length; i++) this.deliverMessage(p, p.chunks[i]!.msgSerial, p.chunks[i]!.data, sp.seq, i)
    }
  }

  /**
   * Decision (§5.2 step 7): a RELIABLE packet is delivered early only when the ordered walk
   * cannot reach it now (a hole, or a SAFE packet short of the safe point, before it). Otherwise
   * the walk that follows its storing delivers it in seq order, so it never overtakes a message
   * this daemon can already deliver — a session's join followed by its RELIABLE message to the
   * group reaches the session itself, as on Spread (one daemon delivers in seq order).
   */
  private walkReaches(seq: number): boolean {
    if (seq > this.myAru) return false
    for (let s = this.delivered + 1; s < seq; s++) {
      const q = this.store.get(s)!
      if (!q.deliveredEarly && q.packet.cls === 3 && s > this.stableAru) return false
    }
    return true
  }

  private deliverMessage(p: DataPacket, msgSerial: number, envelope: Buffer, seq: number, index: number): void {
    this.env.counters.messagesDelivered++
    this.env.emit({
      _tag: "Deliver",
      originatorId: p.originatorId,
      originatorIncarnation: p.originatorIncarnation,
      msgSerial,
      envelope,
      deliveryClass: CLASS_NAMES[p.cls]!,
      configId: this.deliveryConfig,
      ord: { ringSeq: this.ringId.seq, seq, index }
    })
  }

  /** §5.8 ordered walk over `(delivered, myAru]`, then garbage collection (§5.3 step 14). */
  orderedWalk(): void {
    if (this.gate !== "CLOSED") {
      while (this.delivered < this.myAru) {
        const s = this.delivered + 1
        const sp = this.store.get(s)!
        if (!sp.deliveredEarly) {
          if (sp.packet.cls === 3 && s > this.stableAru) break
          this.processChunks(sp)
        }
        this.delivered = s
        this.env.counters.packetsDelivered++
      }
    }
    this.collect()
  }

  /** Feeds a packet's chunks to reassembly and delivers completed messages. */
  processChunks(sp: StoredPacket): void {
    const p = sp.packet
    for (let i = 0; i < p.chunks.length; i++) {
      const c = p.chunks[i]!
      const r = this.reasm.add(p.originatorId, c)
      if (r._tag === "complete") this.deliverMessage(p, c.msgSerial, r.envelope, sp.seq, i)
      else if (r._tag === "violation" && !this.lenient) {
        this.env.counters.reassemblyViolations++
        this.env.emit({ _tag: "Trace", event: { type: "invariant", what: `reassembly: ${r.what}` } })
      }
    }
  }

  /** Drop packets that are both safe (held by all, §5.5) and delivered here. */
  private collect(): void {
    const upTo = Math.min(this.stableAru, this.delivered)
    while (this.discarded < upTo) this.store.delete(++this.discarded)
  }

  // ---------------------------------------------------------------------------------------------
  // §5.3 the token visit

  /** Creates the first token of the ring (leader only) and handles it as received (§6.6 INSTALL step 8). */
  startFirstToken(phase: TokenPhase): void {
    this.onToken({
      ringId: this.ringId, hop: 1, rotation: 0, seq: 0, aru: 0, aruId: NONE, fcc: 0, backlog: 0, phase, idle: 0,
      recDone: phase === TokenPhase.RECOVERY ? 1 : 0, recDoneId: NONE, ringTable: [], rtr: []
    })
  }

  /** Is this token acceptable (§5.3 step 1, the parts that belong to the ring)? */
  acceptsToken(senderId: number, t: Token): boolean {
    return senderId === this.pred && t.hop > this.lastHop
  }

  /** §5.3 step 2, shared by the operational and the recovery visit. */
  beginVisit(t: Token): void {
    const env = this.env
    env.counters.tokensAccepted++
    this.lastHop = t.hop
    this.lastTokenIdle = t.idle
    env.cancelTimer("TokenLoss")
    env.cancelTimer("TokenRetransmit")
    this.savedToken = undefined
    if (t.seq > this.highSeq) this.highSeq = t.seq
    if (env.config.acceleratedRing && this.readPriority !== "DATA_FIRST") {
      this.readPriority = "DATA_FIRST"
      env.emit({ _tag: "ReadPriority", priority: "DATA_FIRST" })
    }
  }

  /**
   * §11.3 stall rule, evaluated at each visit before the token is handled: true when the token's
   * aru has been held down by me, unchanged, for `FailToRecvRotations` visits and at least
   * 2 × `TokenLoss` — I cannot receive, and must exclude myself.
   */
  isStuck(t: Token): boolean {
    const s = this.stall
    if (t.aru === s.aru && t.aruId === s.aruId && t.aru < t.seq) s.visits++
    else this.stall = { aru: t.aru, aruId: t.aruId, since: this.env.now, visits: 0 }
    return this.stall.aruId === this.env.myId && this.stall.visits >= FAIL_TO_RECV_ROTATIONS &&
      this.env.now - this.stall.since >= 2 * this.env.config.timeouts.tokenLoss
  }

  /** §5.3 steps 2–15 for an OPERATIONAL-phase token of my ring (already validated). */
  onToken(t: Token): void {
    const env = this.env
    const cfg = env.config
    const me = env.myId
    const n = this.members.length
    this.beginVisit(t)
    // Step 3: answer retransmission requests before anything else goes out.
    const retransBudget = Math.max(1, cfg.window - Math.max(0, t.fcc - this.myLastFcc))
    const retransmitted = this.answerRequests(t, 0, retransBudget)
    // Step 4: flow control (§5.9). Decision: a ring of one shares its window with nobody and
    // sends nothing on the network, so one visit takes whatever the MaxSeqGap bound allows
    // (below): one event-loop turn per 20 packets would cap a lone daemon at a few MB/s.
    const othersLast = Math.max(0, t.fcc - this.myLastFcc)
    let allowed = n === 1 ? cfg.maxSeqGap : Math.min(cfg.personalWindow, cfg.window - othersLast)
    const myBacklog = env.sendQueue.backlogPackets()
    const total = t.backlog - this.myLastBacklog + myBacklog
    if (total > 0 && myBacklog > 0) allowed = Math.min(allowed, Math.max(1, Math.floor(cfg.window * myBacklog / total)))
    allowed -= retransmitted
    allowed = Math.min(allowed, this.stableAru + cfg.maxSeqGap - t.seq)
    if (t.phase !== TokenPhase.OPERATIONAL) allowed = 0
    allowed = Math.max(allowed, 0)
    // Step 5: new packets.
    const queuedBefore = env.sendQueue.length
    const post: Array<Buffer> = []
    let sent = 0
    for (; sent < allowed; sent++) {
      const b = env.sendQueue.nextPacket(n === 1)
      if (b === undefined) break
      const seq = ++t.seq
      const packet: DataPacket = {
        ringId: this.ringId, seq, originatorId: me, originatorIncarnation: env.incarnation, hop: t.hop + 1, cls: b.cls,
        chunks: b.chunks
      }
      const bytes = n > 1 ? encodeDataPacket(env.stamp, packet) : undefined
      this.storePacket({ seq, bytes, packet, deliveredEarly: false })
      if (env.traceSends) {
        // `completed` lists the messages in chunk order, so the i-th one is chunk i.
        b.completed.forEach((m, index) =>
          env.emit({ _tag: "Trace", event: { type: "send", msgSerial: m.serial, configId: this.configId, ord: { ringSeq: this.ringId.seq, seq, index } } })
        )
      }
      if (bytes !== undefined) post.push(bytes)
    }
    env.counters.packetsSent += sent
    if (queuedBefore >= cfg.sendQueueHighWater && env.sendQueue.length < cfg.sendQueueHighWater) env.onQueueDrained()
    // §5.10: the first max(0, n − AcceleratedWindow) go before the token, the rest after it.
    const preCount = cfg.acceleratedRing ? Math.max(0, post.length - cfg.acceleratedWindow) : post.length
    for (let i = 0; i < preCount; i++) env.emit({ _tag: "SendMulticast", scope: "RING", channel: "DATA", bytes: post[i]! })
    // Step 6: flow-control fields.
    const myFcc = retransmitted + sent
    t.fcc = Math.max(0, t.fcc + myFcc - this.myLastFcc) >>> 0
    this.myLastFcc = myFcc
    const backlogNow = env.sendQueue.backlogPackets()
    t.backlog = Math.max(0, t.backlog + backlogNow - this.myLastBacklog) >>> 0
    this.myLastBacklog = backlogNow
    // Step 7 happened in storePacket. Step 8: my requests.
    const limit = cfg.acceleratedRing ? Math.min(this.prevFwdSeq, t.seq) : t.seq
    const requested = this.addRequests(t, 0, limit)
    // Step 9: the aru rule (§5.4).
    if (t.aru > this.myAru || t.aruId === me || t.aruId === NONE) {
      t.aru = this.myAru
      t.aruId = this.myAru === t.seq ? NONE : me
    }
    // Step 10 (leader) and §5.12 idle accounting.
    let hold = false
    if (sent > 0 || requested) t.idle = 0
    if (this.isLeader) {
      t.rotation += 1
      const idleNow = t.phase === TokenPhase.OPERATIONAL && t.aru === t.seq && t.seq === this.stableAru &&
        t.rtr.length === 0 && env.sendQueue.length === 0 && !this.pendingTokenRequest && sent === 0 && !requested
      t.idle = idleNow ? Math.min(MAX_IDLE, t.idle + 1) : 0
      this.pendingTokenRequest = false
      hold = t.phase === TokenPhase.OPERATIONAL && t.idle >= cfg.idleRotationsBeforeHold
    }
    if (this.isLeader && t.seq > MAX_RING_SEQ) {
      // §6.14: drop the token; TokenLoss starts a membership change and seqs restart at 1.
      env.setTimer("TokenLoss", cfg.timeouts.tokenLoss)
    } else if (hold) {
      this.heldToken = t
      env.counters.tokenHolds++
      env.setTimer("TokenHold", cfg.timeouts.tokenHold)
      env.setTimer("TokenLoss", cfg.timeouts.tokenLoss)
    } else {
      this.forward(t) // Step 11.
    }
    // Step 12: accelerated-ring packets after the token.
    for (let i = preCount; i < post.length; i++) env.emit({ _tag: "SendMulticast", scope: "RING", channel: "DATA", bytes: post[i]! })
    // Step 13: the safe point (§5.5); it never decreases.
    const safe = this.safePoint(t.aru)
    if (safe > this.stableAru) this.stableAru = safe
    this.prevFwdAru = t.aru
    this.prevFwdSeq = t.seq
    // Step 14.
    this.orderedWalk()
  }

  /**
   * §5.5: the smaller of the aru values on the two most recent tokens I forwarded (a single
   * token's aru can overstate what everyone holds). A method so that tests can break it.
   */
  safePoint(tokenAru: number): number {
    return Math.min(tokenAru, this.prevFwdAru)
  }

  /** §5.3 step 11. */
  forward(t: Token): void {
    const env = this.env
    t.hop += 1
    if (this.succ === env.myId) {
      // §6.11.1 (R2): self-hand-off, no retransmission.
      env.handOffToSelf({ _tag: "TOKEN", token: t })
    } else {
      const bytes = encodeToken(env.stamp, t, env.config.maxTokenSize)
      env.emit({ _tag: "SendUnicast", to: this.succ, channel: "TOKEN", bytes })
      this.savedToken = bytes
      this.savedHop = t.hop
      this.retransmitsLeft = env.config.tokenRetransmitLimit
      this.retransmitDelay = env.config.timeouts.tokenRetransmit
      this.idleForward = t.idle > 0
      env.setTimer("TokenRetransmit", this.retransmitDelay)
    }
    env.setTimer("TokenLoss", env.config.timeouts.tokenLoss)
  }

  /** `TokenRetransmit` fired (§5.13). */
  onTokenRetransmitTimer(): void {
    if (this.savedToken === undefined || this.retransmitsLeft <= 0) return
    this.retransmitsLeft--
    this.env.counters.tokenRetransmits++
    this.env.emit({ _tag: "SendUnicast", to: this.succ, channel: "TOKEN", bytes: this.savedToken })
    // Decision (§5.12 × §5.13): on an idle ring the leader holds the token, so no member sees
    // evidence that its successor took it until the hold ends; a fixed interval resent every
    // token TokenRetransmitLimit times per hold. An idle token backs off instead (100, 200,
    // 400 ms…): two copies per 500 ms hold, and a lost one is still resent well within TokenLoss.
    if (this.idleForward) this.retransmitDelay *= 2
    this.env.setTimer("TokenRetransmit", this.retransmitDelay)
  }

  /** §5.12 release of a held token; `reset` = a request or a local message (idle := 0). */
  release(reset: boolean): void {
    const t = this.heldToken
    if (t === undefined) return
    this.heldToken = undefined
    this.env.cancelTimer("TokenHold")
    if (reset) t.idle = 0
    this.forward(t)
  }

  /** A TOKEN_REQUEST for my ring reached me as leader (§5.12). */
  onTokenRequest(): void {
    if (this.heldToken !== undefined) this.release(true)
    else this.pendingTokenRequest = true
  }

  /** My send queue went from empty to non-empty (§5.12 release rule). */
  onQueueNonEmpty(): void {
    if (this.isLeader) {
      if (this.heldToken !== undefined) this.release(true)
      return
    }
    if (this.lastTokenIdle >= this.env.config.idleRotationsBeforeHold - 1) {
      this.env.counters.tokenRequestsSent++
      this.env.emit({ _tag: "SendUnicast", to: this.leader, channel: "DATA", bytes: encodeTokenRequest(this.env.stamp, this.ringId) })
    }
  }

  /** Stops every timer this ring armed (membership change, §6.3 step 1). */
  stopTimers(): void {
    this.heldToken = undefined
    this.savedToken = undefined
    for (const t of ["TokenLoss", "TokenRetransmit", "TokenHold"] as const) this.env.cancelTimer(t)
  }

  // ---------------------------------------------------------------------------------------------
  // §5.6 retransmission requests and answers

  /**
   * Step 3: answers the entries of `ringIdx` that the hint makes me eligible for, oldest seqs first,
   * at most `budget` packets. Returns the number of packets retransmitted.
   */
  answerRequests(t: Token, ringIdx: number, budget: number, topo: Topology = this): number {
    const n = topo.members.length
    const me = this.env.myId
    if (n < 2 || t.rtr.length === 0) return 0
    const candidates: Array<number> = []
    for (const e of t.rtr) {
      if (e.ringIdx !== ringIdx || e.requesterId === me) continue
      const ri = topo.members.indexOf(e.requesterId)
      if (ri < 0) continue
      const d = (topo.myIndex - ri + n) % n
      if (d < e.hintDistance) continue
      if (e.firstSeq <= this.stableAru && topo === this) this.env.counters.garbageRequests++
      const lo = Math.max(e.firstSeq, this.discarded + 1)
      const hi = Math.min(e.firstSeq + e.count - 1, this.highSeq)
      for (let s = lo; s <= hi; s++) if (this.store.has(s)) candidates.push(s)
    }
    if (candidates.length === 0) return 0
    candidates.sort((a, b) => a - b)
    const answered: Array<number> = []
    for (const s of candidates) {
      if (answered.length >= budget) break
      if (answered.length > 0 && answered[answered.length - 1] === s) continue
      let askers = 0
      let requester = 0
      for (const e of t.rtr) {
        if (e.ringIdx === ringIdx && s >= e.firstSeq && s < e.firstSeq + e.count) {
          askers++
          requester = e.requesterId
        }
      }
      const sp = this.store.get(s)!
      const bytes = restampForRetransmission(sp.bytes ?? encodeDataPacket(this.env.stamp, sp.packet), this.env.stamp)
      if (askers === 1) {
        this.env.counters.retransmissionsUnicast++
        this.env.emit({ _tag: "SendUnicast", to: requester, channel: "DATA", bytes })
      } else {
        this.env.counters.retransmissionsMulticast++
        this.env.emit({ _tag: "SendMulticast", scope: "RING", channel: "DATA", bytes })
      }
      answered.push(s)
    }
    t.rtr = removeSeqs(t.rtr, ringIdx, answered)
    return answered.length
  }

  /**
   * Step 8: drops my unanswered entries of `ringIdx` and asks for every seq in `(myAru, limit]`
   * I do not hold, while the token has room. Returns true if anything was requested.
   */
  addRequests(t: Token, ringIdx: number, limit: number, topo: Topology = this, isHole?: (seq: number) => boolean): boolean {
    const me = this.env.myId
    const n = topo.members.length
    t.rtr = t.rtr.filter((e) => !(e.ringIdx === ringIdx && e.requesterId === me))
    for (const s of this.attempts.keys()) if (s <= this.myAru) this.attempts.delete(s)
    if (n < 2) return false
    let room = rtrEntriesThatFit(t.ringTable.length, this.env.config.maxTokenSize) - t.rtr.length
    let s = this.myAru + 1
    let requested = false
    while (s <= limit && room > 0) {
      if (this.store.has(s) || isHole?.(s) === true) {
        s++
        continue
      }
      const a = Math.min(MAX_ATTEMPTS, (this.attempts.get(s) ?? 0) + 1)
      const first = s
      this.attempts.set(s, a)
      s++
      while (s <= limit && !this.store.has(s) && isHole?.(s) !== true && Math.min(MAX_ATTEMPTS, (this.attempts.get(s) ?? 0) + 1) === a) {
        this.attempts.set(s, a)
        s++
      }
      t.rtr.push({ ringIdx, attempts: a, hintDistance: 1 + ((a - 1) % (n - 1)), requesterId: me, firstSeq: first, count: s - first })
      this.env.counters.requestsMade++
      requested = true
      room--
    }
    return requested
  }

  // ---------------------------------------------------------------------------------------------
  // §6.6–§6.8: this ring as the old ring of a membership change

  /** §6.7 step 4: stores a retransmitted old-ring packet (no delivery: the gate is CLOSED). */
  storeRecovered(p: DataPacket, bytes: Buffer): boolean {
    if (this.holds(p.seq) || p.seq > this.discarded + this.capacity) return false
    if (this.incarnationOf(p.originatorId) !== p.originatorIncarnation) return false
    this.storePacket({ seq: p.seq, bytes, packet: p, deliveredEarly: false })
    return true
  }

  /**
   * §6.6 INSTALL step 3: deliver, in this regular configuration, every packet up to the
   * section's `stableAru*` (SAFE included: every old-ring member has them), then discard them.
   */
  deliverStablePrefix(stableAruStar: number): void {
    if (stableAruStar > this.stableAru) this.stableAru = stableAruStar
    while (this.delivered < this.stableAru) {
      const s = this.delivered + 1
      const sp = this.store.get(s)
      if (sp === undefined) {
        this.invariant(`stable prefix: seq ${s} ≤ stableAru* ${stableAruStar} not held`)
        break
      }
      if (!sp.deliveredEarly) this.processChunks(sp)
      this.delivered = s
    }
    this.collect()
  }

  /** §6.6 INSTALL step 4 (defensive): drops packets above `highSeq*` or in the holes. */
  dropUnreported(highSeqStar: number, isHole: (seq: number) => boolean): void {
    for (let s = this.discarded + 1; s <= this.highSeq; s++) {
      if (this.store.has(s) && (s > highSeqStar || isHole(s))) {
        this.store.delete(s)
        this.invariant(`old-ring packet ${s} held beyond the commit token's report`)
      }
    }
    if (this.highSeq > highSeqStar) this.highSeq = highSeqStar
    let a = this.discarded
    while (this.store.has(a + 1)) a++
    this.myAru = a
  }

  /** §6.9 step 1: the attempt failed; forget the section's safe point. */
  backOff(): void {
    this.stableAru = this.discarded
  }

  /**
   * §6.8 steps 1–4 at install: remaining reliable messages and the ordered prefix in this
   * regular configuration, then `emitTrans()` (the transitional install, §6.8 step 3), then the
   * rest in the transitional configuration `trans`, skipping holes and, after the first hole,
   * packets whose originator is not in `commitSet`.
   */
  installDeliveries(
    highSeqStar: number,
    isHole: (seq: number) => boolean,
    commitSet: ReadonlySet<number>,
    trans: ConfigurationId | undefined,
    emitTrans: () => void
  ): void {
    // Step 1: every complete, undelivered reliable message held (decision: the whole-message
    // reliable packets, i.e. those that may have been delivered early elsewhere; fragmented
    // reliable messages are never delivered early and follow the ordered rule below).
    for (let s = this.delivered + 1; s <= highSeqStar; s++) {
      const sp = this.store.get(s)
      if (sp !== undefined && !sp.deliveredEarly && sp.packet.cls === 1 && sp.packet.chunks.every(isWholeMessage)) {
        sp.deliveredEarly = true
        const p = sp.packet
        for (let i = 0; i < p.chunks.length; i++) this.deliverMessage(p, p.chunks[i]!.msgSerial, p.chunks[i]!.data, s, i)
      }
    }
    // Step 2: ordered walk up to the first hole or the first SAFE packet above stableAru*.
    for (let s = this.delivered + 1; s <= highSeqStar; s++) {
      const sp = this.store.get(s)
      if (sp === undefined) break
      if (!sp.deliveredEarly) {
        if (sp.packet.cls === 3 && s > this.stableAru) break
        this.processChunks(sp)
      }
      this.delivered = s
    }
    // Step 3.
    emitTrans()
    // Step 4.
    if (trans !== undefined) this.deliveryConfig = trans
    this.lenient = true
    let afterHole = false
    for (let s = this.delivered + 1; s <= highSeqStar; s++) {
      const sp = this.store.get(s)
      this.delivered = s
      if (sp === undefined) {
        if (!isHole(s)) this.invariant(`install: seq ${s} is neither held nor a hole`)
        afterHole = true
        continue
      }
      if (sp.deliveredEarly) continue
      if (afterHole && !commitSet.has(sp.packet.originatorId)) continue
      this.processChunks(sp)
    }
    this.lenient = false
  }

  private invariant(what: string): void {
    this.env.counters.invariantViolations++
    this.env.emit({ _tag: "Trace", event: { type: "invariant", what } })
  }
}

/** Removes the answered seqs (sorted, distinct) from the entries of `ringIdx`, splitting ranges. */
const removeSeqs = (rtr: ReadonlyArray<RtrEntry>, ringIdx: number, answered: ReadonlyArray<number>): Array<RtrEntry> => {
  if (answered.length === 0) return rtr.slice()
  const out: Array<RtrEntry> = []
  for (const e of rtr) {
    if (e.ringIdx !== ringIdx) {
      out.push(e)
      continue
    }
    let start = e.firstSeq
    const end = e.firstSeq + e.count // exclusive
    for (const s of answered) {
      if (s < start || s >= end) continue
      if (s > start) out.push({ ...e, firstSeq: start, count: s - start })
      start = s + 1
    }
    if (start < end) out.push({ ...e, firstSeq: start, count: end - start })
  }
  return out
}
