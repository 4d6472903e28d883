/**
 * What the per-ring ordering state needs from the engine around it: configuration, identity,
 * the output list of the current step, timers and counters. One instance per engine.
 */
import type { HeaderStamp } from "../../Protocol/Ring/Header.js"
import type { Commit } from "../../Protocol/Ring/CommitPacket.js"
import type { Token } from "../../Protocol/Ring/TokenPacket.js"
import type { RingConfig } from "./RingConfig.js"
import type { SendQueue } from "./SendQueue.js"
import type { RingOutput, TimerName } from "./Types.js"

/** Drop and event counters (§4.1 "counted", §5.2, §5.3, §5.6). */
export class Counters {
  malformed = 0
  wrongConfig = 0
  wrongVersion = 0
  notConfigured = 0
  wrongSource = 0
  staleIncarnation = 0
  ownPacket = 0
  foreign = 0
  duplicates = 0
  beyondWindow = 0
  notMember = 0
  tokensDropped = 0
  tokensAccepted = 0
  tokenRetransmits = 0
  tokenLosses = 0
  tokenHolds = 0
  tokenRequestsSent = 0
  packetsSent = 0
  packetsReceived = 0
  packetsDelivered = 0
  retransmissionsUnicast = 0
  retransmissionsMulticast = 0
  requestsMade = 0
  garbageRequests = 0
  reassemblyViolations = 0
  messagesDelivered = 0
  invariantViolations = 0
  selfExclusions = 0
  /** Datagrams dropped while a reload isolates this daemon (§9.5). */
  isolated = 0
}

export interface Env {
  /** Time of the current input (ms); only the stall rule (§11.3) reads it. */
  readonly now: number
  readonly config: RingConfig
  readonly myId: number
  readonly incarnation: number
  readonly stamp: HeaderStamp
  readonly counters: Counters
  /** The queue the token draws from now (§8.6 send path). */
  readonly sendQueue: SendQueue
  /** §6.8 step 5 for every queue: a partly sent message restarts from fragment 0. */
  restartPartialSends(): void
  /** Emit `Trace(send…)` events (evs-properties §1.2); off in benchmarks. */
  readonly traceSends: boolean
  emit(o: RingOutput): void
  setTimer(timer: TimerName, delay: number): void
  cancelTimer(timer: TimerName): void
  /**
   * §6.11.1 (R2): a TOKEN or COMMIT addressed to myself. The engine keeps it and hands it back
   * through the zero-delay `SelfHandoff` timer, one visit per fire.
   */
  handOffToSelf(item: SelfItem): void
  /** Called when the send queue drops below the high-water mark (§5.11). */
  onQueueDrained(): void
}

export type SelfItem = { readonly _tag: "TOKEN"; readonly token: Token } | { readonly _tag: "COMMIT"; readonly commit: Commit }
