/**
 * Inputs and outputs of the sans-IO ring engine (daemon-protocol §3), restricted to what the
 * ring layer needs; sessions and groups live in the layer above (§8).
 */
import type { RingId } from "../../Protocol/Ring/RingId.js"
import type { RingConfig } from "./RingConfig.js"

/** §5.8 delivery classes. UNRELIABLE/RELIABLE → RELIABLE; FIFO/CAUSAL/AGREED → ORDERED; SAFE. */
export type DeliveryClass = "RELIABLE" | "ORDERED" | "SAFE"

export type ConfigKind = "REG" | "TRANS"

/** §2.3: a configuration id. Regular ids have even seqs, transitional ids odd ones. */
export interface ConfigurationId {
  readonly kind: ConfigKind
  readonly seq: number
  readonly rep: number
}

export type Channel = "DATA" | "TOKEN"

/** §5.8 delivery gate; the group layer chooses between these two (§8.6). */
export type DeliveryGate = "OPEN" | "ORDERED_ONLY"

/**
 * §8.6 send path: which of my queued messages the token may carry. `GROUPS` (during a GROUPS
 * exchange) sends only the groups queue, so client messages wait behind every `GROUPS_STATE`;
 * `CLIENTS` sends the groups queue first, then client messages.
 */
export type SendPath = "CLIENTS" | "GROUPS"

/** Timer names (§6.16, §6.11.1). One instance per name. */
export type TimerName =
  | "TokenLoss"
  | "TokenRetransmit"
  | "TokenHold"
  | "SelfHandoff"
  | "Join"
  | "Consensus"
  | "Commit"
  | "Probe"
  /** §9.5: a reload deferred until OPERATIONAL is applied in a step of its own, right after the install. */
  | "Reload"

export type RingInput =
  | {
    readonly _tag: "Init"
    readonly now: number
    /** §2.2 */
    readonly incarnation: number
    /** §6.10.1: the persisted ring seq (or wall-clock ms). */
    readonly ringSeqFloor: number
    /** PRNG seed (§3): all randomness of the engine comes from it. */
    readonly seed: number
    /**
     * Start in an already formed ring (ordering tests and benchmarks): every listed daemon is
     * given the same list and starts directly OPERATIONAL in ring
     * `(smallest even > ringSeqFloor, lowest-rank member)`; membership (§6) then runs as usual.
     * Absent (the normal case): boot alone (§6.11) and merge with whoever answers.
     */
    readonly fixedRing?: ReadonlyArray<{ readonly id: number; readonly incarnation: number }>
  }
  | {
    readonly _tag: "PacketReceived"
    readonly now: number
    readonly channel: Channel
    /** Source IP, port stripped (§4.1 compares IPs only). */
    readonly source: string
    readonly bytes: Buffer
  }
  | { readonly _tag: "TimerFired"; readonly now: number; readonly timer: TimerName; readonly generation: number }
  | {
    readonly _tag: "Submit"
    readonly now: number
    /** The §4.4 message envelope; opaque to the ring except for fragmentation. */
    readonly envelope: Buffer
    /**
     * When present, `envelope` is a stand-in of the right length and this makes the real bytes.
     * The ring calls it before it cuts the message for a ring of more than one daemon; a ring
     * of one never reads the bytes of its own messages (the driver delivers those from what
     * it kept, DaemonCore's `pendingLocal`), so a lone daemon skips encoding them at all.
     */
    readonly encode?: () => Buffer
    readonly deliveryClass: DeliveryClass
    /** The queue it waits in (§8.6); default `CLIENTS`. */
    readonly path?: SendPath
  }
  | { readonly _tag: "SetDeliveryGate"; readonly now: number; readonly gate: DeliveryGate }
  | { readonly _tag: "SetSendPath"; readonly now: number; readonly path: SendPath }
  | { readonly _tag: "Shutdown"; readonly now: number }
  /**
   * §9.5: the configuration file was re-read (a monitor `RELOAD`). Applied at once when
   * OPERATIONAL, else after the next install (the latest one wins).
   */
  | { readonly _tag: "Reconfigure"; readonly now: number; readonly config: RingConfig }

/**
 * A message's position in the total order: `(ring seq, seq of its last fragment, chunk index of
 * that fragment in its packet)`. Decision: evs-properties §1.2 defines `ord` as the first two;
 * with packing (§4.3) several messages share a packet, so the chunk index is needed to make
 * `ord` unique (D6.1).
 */
export interface Ord {
  readonly ringSeq: number
  readonly seq: number
  readonly index: number
}

export type TraceEvent =
  | { readonly type: "submit"; readonly msgSerial: number; readonly bytes: number; readonly deliveryClass: DeliveryClass }
  /** evs-properties §1.2 `send(m, c, ord)`: the last fragment of my message got its seq. */
  | { readonly type: "send"; readonly msgSerial: number; readonly configId: ConfigurationId; readonly ord: Ord }
  | { readonly type: "tokenLoss"; readonly ringId: RingId }
  | { readonly type: "invariant"; readonly what: string }
  /** §11.6: packets with another configuration hash arrive from `source` (at most once per 10 s). */
  | { readonly type: "configMismatch"; readonly source: string; readonly senderId: number; readonly hash: number }
  /** §9.5: what a `Reconfigure` did (or why it did nothing). */
  | { readonly type: "reload"; readonly outcome: ReloadOutcome; readonly detail: string }

/**
 * §9.5 outcomes: `deferred` (not OPERATIONAL yet), `settings` (same daemons and hash: windows
 * and timeouts adopted), `membership` (daemons added or removed, or a new hash: `gatherEnter`),
 * `isolate` (another daemon's identity or addressing changed: singleton, then merge), `refused`
 * (nothing changed), `fatal` (my own identity changed: `Exit`).
 */
export type ReloadOutcome = "deferred" | "settings" | "membership" | "isolate" | "refused" | "fatal"

export type RingOutput =
  | { readonly _tag: "SendUnicast"; readonly to: number; readonly channel: Channel; readonly bytes: Buffer }
  | { readonly _tag: "SendMulticast"; readonly scope: "RING" | "CONFIGURED"; readonly channel: Channel; readonly bytes: Buffer }
  | { readonly _tag: "SetTimer"; readonly timer: TimerName; readonly delay: number; readonly generation: number }
  | { readonly _tag: "CancelTimer"; readonly timer: TimerName }
  | {
    readonly _tag: "Deliver"
    readonly originatorId: number
    readonly originatorIncarnation: number
    /** §2.4 wire serial (low 32 bits of the originator's counter). */
    readonly msgSerial: number
    /** The envelope bytes exactly as submitted. May be a view into a received datagram. */
    readonly envelope: Buffer
    readonly deliveryClass: DeliveryClass
    /** The configuration the message is delivered in (§7). */
    readonly configId: ConfigurationId
    readonly ord: Ord
  }
  | {
    readonly _tag: "Install"
    readonly kind: ConfigKind
    readonly configId: ConfigurationId
    /** Member daemon ids in rank order. */
    readonly members: ReadonlyArray<number>
    /** Their incarnations, same order (§2.2: a member is a process `(id, incarnation)`). */
    readonly incarnations: ReadonlyArray<number>
  }
  | { readonly _tag: "PersistRingSeq"; readonly seq: number }
  | { readonly _tag: "PauseClientReads" }
  | { readonly _tag: "ResumeClientReads" }
  | { readonly _tag: "ReadPriority"; readonly priority: "DATA_FIRST" | "TOKEN_FIRST" }
  /** A Submit the engine could not accept (too large, queue hard limit, shutting down). */
  | { readonly _tag: "SubmitRefused"; readonly reason: string; readonly bytes: number }
  | { readonly _tag: "Trace"; readonly event: TraceEvent }
  | { readonly _tag: "Exit"; readonly code: number }
  /**
   * §9.5: the engine now runs on `config` (its daemons, hash and settings). Emitted before the
   * outputs that depend on it, so the driver updates its routes (new daemons reachable, removed
   * ones dropped) before the `JOIN` of the membership change goes out.
   */
  | { readonly _tag: "Reconfigured"; readonly config: RingConfig }
