/**
 * What the ring engine needs to know about the deployment (daemon-protocol §9, §12). The
 * `spread.conf` parser maps its result onto this interface; the engine reads nothing else.
 */
import { HEADER_LENGTH } from "../../Protocol/Ring/Header.js"
import { CHUNK_HEADER_LENGTH, DATA_FIXED_LENGTH } from "../../Protocol/Ring/DataPacket.js"
import { COMMIT_FIXED_LENGTH, COMMIT_MEMBER_LENGTH, MAX_COMMIT_SIZE, SECTION_HEADER_LENGTH } from "../../Protocol/Ring/CommitPacket.js"
import { TOKEN_FIXED_LENGTH } from "../../Protocol/Ring/TokenPacket.js"
import { DEFAULT_LIMITS, DEFAULT_WINDOWS, LAN_TIMEOUTS, MAX_DAEMONS, MAX_MESSAGE_SIZE } from "../../Config/Defaults.js"

/** One configured daemon. `rank` is its position in configuration order (§2.1): 0, 1, 2, … */
export interface RingDaemon {
  readonly id: number
  readonly rank: number
  /** The configured IP (no port: §4.1 compares source IPs only). */
  readonly address: string
  /** The daemon's name (§9.1), when the driver knows it: with the id, its identity on reload (§9.5). */
  readonly name?: string
  /**
   * The rest of how the driver reaches it (port, segment addresses, interfaces), as an opaque
   * text compared on reload (§9.5); the engine reads nothing else from it.
   */
  readonly endpoint?: string
}

/** Timer durations in ms (§6.16, §12.2, LAN profile defaults). */
export interface RingTimeouts {
  readonly tokenLoss: number
  readonly tokenRetransmit: number
  readonly tokenHold: number
  readonly join: number
  readonly consensus: number
  readonly commit: number
  readonly probeMin: number
  readonly probeMax: number
}

export interface RingConfig {
  /** Every configured daemon, in rank order (`daemons[i].rank === i`). */
  readonly daemons: ReadonlyArray<RingDaemon>
  /** §9.3 configuration hash; packets with another hash are dropped (§11.6). */
  readonly configHash: number
  /** §5.9 `Window`: packets the whole ring may multicast per rotation. */
  readonly window: number
  /** §5.9 `PersonalWindow`: packets one member may send per visit (≤ window). */
  readonly personalWindow: number
  /** §5.10 accelerated ring on/off (default on for a single segment). */
  readonly acceleratedRing: boolean
  /** §5.10 `AcceleratedWindow` (≤ personalWindow). */
  readonly acceleratedWindow: number
  /** §5.9 `MaxSeqGap`: a sender never runs further than this past the safe point. */
  readonly maxSeqGap: number
  /** §4.3 `MaxPacketSize`: bound of one DATA datagram. */
  readonly maxPacketSize: number
  /** §4.5 `MaxTokenSize`. */
  readonly maxTokenSize: number
  /** §4.3 `MaxMessageSize`: bound of one reassembled envelope. */
  readonly maxMessageSize: number
  /** §5.11 `SendQueueHighWater`: `PauseClientReads` at this many queued messages. */
  readonly sendQueueHighWater: number
  /** §4.1: add and require CRC-32C on every datagram we send. */
  readonly crc: boolean
  readonly timeouts: RingTimeouts
  /** §5.13 `TokenRetransmitLimit`. */
  readonly tokenRetransmitLimit: number
  /** §5.12 `IdleRotationsBeforeHold`. */
  readonly idleRotationsBeforeHold: number
}

/**
 * §12.1 / §12.2 defaults: the configuration's own (src/Config/Defaults.ts, LAN profile), plus the
 * engine-only ones.
 */
export const DEFAULTS = {
  ...DEFAULT_WINDOWS,
  maxSeqGap: DEFAULT_LIMITS.maxSeqGap,
  maxPacketSize: DEFAULT_LIMITS.maxPacketSize,
  maxTokenSize: DEFAULT_LIMITS.maxPacketSize,
  maxMessageSize: DEFAULT_LIMITS.maxMessageSize,
  sendQueueHighWater: 500,
  tokenRetransmitLimit: 5,
  idleRotationsBeforeHold: DEFAULT_LIMITS.idleRotationsBeforeHold,
  timeouts: {
    tokenLoss: LAN_TIMEOUTS.tokenLoss,
    tokenRetransmit: LAN_TIMEOUTS.tokenRetransmit,
    tokenHold: LAN_TIMEOUTS.tokenHold,
    join: LAN_TIMEOUTS.join,
    consensus: LAN_TIMEOUTS.consensus,
    commit: LAN_TIMEOUTS.commit,
    probeMin: LAN_TIMEOUTS.probeInterval,
    probeMax: LAN_TIMEOUTS.probeMax
  } satisfies RingTimeouts
} as const

/** §12.1: at most 64 MiB per message. */
export const MAX_MESSAGE_SIZE_LIMIT = MAX_MESSAGE_SIZE
export { MAX_DAEMONS }

export const makeRingConfig = (
  daemons: ReadonlyArray<Omit<RingDaemon, "rank">>,
  overrides: Partial<Omit<RingConfig, "daemons" | "timeouts">> & { readonly timeouts?: Partial<RingTimeouts> } = {}
): RingConfig => ({
  configHash: 0x5eed,
  window: DEFAULTS.window,
  personalWindow: DEFAULTS.personalWindow,
  acceleratedRing: true,
  acceleratedWindow: DEFAULTS.acceleratedWindow,
  maxSeqGap: DEFAULTS.maxSeqGap,
  maxPacketSize: DEFAULTS.maxPacketSize,
  maxTokenSize: DEFAULTS.maxTokenSize,
  maxMessageSize: DEFAULTS.maxMessageSize,
  sendQueueHighWater: DEFAULTS.sendQueueHighWater,
  crc: true,
  tokenRetransmitLimit: DEFAULTS.tokenRetransmitLimit,
  idleRotationsBeforeHold: DEFAULTS.idleRotationsBeforeHold,
  ...overrides,
  daemons: daemons.map((d, rank) => ({ ...d, rank })),
  timeouts: { ...DEFAULTS.timeouts, ...overrides.timeouts }
})

/** Bytes of fragment payload one DATA packet carries (§4.3: 1472 − 24 − 40 − 16 = 1392). */
export const maxFragmentLength = (c: RingConfig): number =>
  c.maxPacketSize - HEADER_LENGTH - DATA_FIXED_LENGTH - CHUNK_HEADER_LENGTH

/** §5.11: the packet buffer holds `MaxSeqGap + 2 × Window` packets. */
export const bufferCapacity = (c: RingConfig): number => c.maxSeqGap + 2 * c.window

/**
 * The coherence checks of §9.4, §5.9, §5.10 and R5 (§4.8.1). Returns the problems found (empty =
 * valid); the engine refuses to start with a non-empty list.
 */
export const checkRingConfig = (c: RingConfig): Array<string> => {
  const errors: Array<string> = []
  const n = c.daemons.length
  if (n < 1 || n > MAX_DAEMONS) errors.push(`daemon count ${n} not in 1…${MAX_DAEMONS}`)
  const ids = new Set<number>()
  c.daemons.forEach((d, i) => {
    if (d.rank !== i) errors.push(`daemon ${d.id}: rank ${d.rank} ≠ position ${i}`)
    if (d.id === 0 || d.id > 0xffff_ffff || !Number.isInteger(d.id)) errors.push(`daemon id ${d.id} invalid`)
    if (ids.has(d.id)) errors.push(`duplicate daemon id ${d.id}`)
    ids.add(d.id)
  })
  if (!(c.personalWindow >= 1 && c.personalWindow <= c.window)) errors.push("need 1 ≤ PersonalWindow ≤ Window")
  if (!(c.acceleratedWindow >= 0 && c.acceleratedWindow <= c.personalWindow)) errors.push("need AcceleratedWindow ≤ PersonalWindow")
  if (c.maxSeqGap < c.window) errors.push("need MaxSeqGap ≥ Window")
  if (c.maxPacketSize < HEADER_LENGTH + DATA_FIXED_LENGTH + CHUNK_HEADER_LENGTH + 64 || c.maxPacketSize > 65_507) {
    errors.push("MaxPacketSize out of range")
  }
  if (c.maxTokenSize < HEADER_LENGTH + TOKEN_FIXED_LENGTH + 20 * 4) errors.push("MaxTokenSize too small for any rtr entry")
  if (c.maxMessageSize < 1 || c.maxMessageSize > MAX_MESSAGE_SIZE_LIMIT) errors.push("MaxMessageSize out of range")
  const t = c.timeouts
  if (!(t.tokenRetransmit < t.tokenLoss / 4)) errors.push("need TokenRetransmit < TokenLoss / 4 (§9.4)")
  if (!(t.tokenHold < t.tokenLoss)) errors.push("need TokenHold + rotation < TokenLoss (§9.4)")
  if (!(t.join < t.consensus)) errors.push("need Join < Consensus (§9.4)")
  // R5 (§4.8.1): worst-case commit token for this daemon count must fit a UDP datagram.
  const bitmap = Math.ceil((c.maxSeqGap + 2 * c.window) / 8)
  const worst = HEADER_LENGTH + COMMIT_FIXED_LENGTH + COMMIT_MEMBER_LENGTH * n + n * (SECTION_HEADER_LENGTH + 8 + bitmap)
  if (worst > MAX_COMMIT_SIZE) errors.push(`worst-case commit token ${worst} B > ${MAX_COMMIT_SIZE} (§4.8.1)`)
  return errors
}
