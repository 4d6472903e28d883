/**
 * What a daemon does with a monitor datagram (daemon-protocol §10): a pure function from the
 * received bytes and a snapshot of the daemon to a list of actions the driver carries out in
 * order. No sockets, no clock: the driver supplies the source check, the status and the time.
 *
 * Decisions (§10 leaves them open):
 * * Every request is answered with a `MON_STATUS_REPLY` whose `outcome` says STATUS, ACCEPTED,
 *   REFUSED_DANGEROUS (`DangerousMonitor` is off) or REFUSED_INVALID (e.g. windows out of
 *   order), so `spmonitor` can tell a refusal from a lost datagram. The reply comes first in the
 *   action list, so a killed daemon answers before it exits. The status in a reply is the one
 *   before the command takes effect.
 * * Packets that fail authentication or come from elsewhere get no answer at all (`Dropped`):
 *   an answer would make the daemon a reflector for spoofed sources.
 * * `MON_RELOAD` is accepted under another configuration hash (§9.5): the monitor reads the
 *   file being rolled out, whose hash the daemons get only by reloading it. It is answered
 *   under the request's hash, so that the monitor can match the reply. Every other check
 *   (source, `MonitorKey`, `DangerousMonitor` of the running configuration) still applies.
 */
import { MAX_DATAGRAM, MAX_WINDOW } from "../Config/Defaults.js"
import { worstCommitTokenSize } from "../Config/Checks.js"
import {
  decodeMonitorPacket, encodeMonitorPacket, type MonFlowControl, type MonitorRequest, type MonitorWindows,
  type ReplyOutcome, signMonitorPacket, type StatusReplyFields, verifyMonitorPacket
} from "../Protocol/Ring/Monitor.js"

/** §10 `PartitionClear`: an injected partition lifts itself after this long (Spread `Partition_timeout`). */
export const PARTITION_CLEAR_MS = 60_000

/** What the driver knows when a monitor datagram arrives. */
export interface MonitorContext {
  /** `DangerousMonitor` (§9.1): allows partition, flow control, reload and kill. */
  readonly dangerousMonitor: boolean
  /** `MonitorKey` bytes (`monitorKeyBytes`); when set, requests must carry the HMAC and replies get one. */
  readonly monitorKey?: Uint8Array | undefined
  /** §10: the datagram's source IP is a configured daemon's IP (any port). */
  readonly sourceIsConfiguredDaemon: boolean
  /** My configuration hash (§9.3); a request with another is dropped (§4.1). */
  readonly configHash: number
  /** My rank (§2.1): my entry in `MON_FLOW_CONTROL`. */
  readonly myRank: number
  /** Number of configured daemons: the length of a partition and of a flow-control request. */
  readonly configuredCount: number
  /** The largest `Window` the commit token bound allows ({@link largestWindow}). */
  readonly maxWindow: number
  /** My status now; called only when a reply is built. */
  readonly status: () => StatusReplyFields
}

export type MonitorAction =
  /** Send `bytes` to the request's source IP, UDP `port`, from the DATA socket. */
  | { readonly _tag: "Reply"; readonly port: number; readonly bytes: Buffer }
  /** Install a partition (component per configured daemon, rank order; all zeros = clear): {@link PartitionFilter.set}. */
  | { readonly _tag: "SetPartition"; readonly components: ReadonlyArray<number> }
  /** Change my windows at run time (§5.9, §5.10); absent = unchanged. */
  | {
    readonly _tag: "SetWindows"
    readonly window?: number
    readonly personal?: number
    readonly accelerated?: number
  }
  /** Re-read the configuration (§9.5). */
  | { readonly _tag: "Reload" }
  /** I am among the kill targets: exit (after sending the reply). */
  | { readonly _tag: "Exit" }
  /** A dangerous or invalid command was refused; log `reason` (the monitor gets it in the reply). */
  | { readonly _tag: "Refused"; readonly reason: string }
  /** The datagram was ignored without an answer; count or log `reason`. */
  | { readonly _tag: "Dropped"; readonly reason: string }

/**
 * The largest `Window` whose worst commit token still fits a datagram (§4.8.1, the bound
 * `spread.conf` is checked against), capped at {@link MAX_WINDOW}.
 *
 * @example
 * ```ts
 * largestWindow(config.daemons.length, config.limits.maxSeqGap)
 * ```
 */
export const largestWindow = (daemons: number, maxSeqGap: number): number => {
  let lo = 0
  let hi = MAX_WINDOW
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (worstCommitTokenSize(daemons, mid, maxSeqGap) <= MAX_DATAGRAM) lo = mid
    else hi = mid - 1
  }
  return lo
}

const dropped = (reason: string): ReadonlyArray<MonitorAction> => [{ _tag: "Dropped", reason }]

const reply = (
  request: MonitorRequest,
  ctx: MonitorContext,
  outcome: ReplyOutcome,
  detail = ""
): MonitorAction => {
  const packet = encodeMonitorPacket(ctx.configHash, {
    _tag: "MON_STATUS_REPLY",
    nonce: request.nonce,
    answered: request._tag,
    outcome,
    detail,
    status: ctx.status()
  })
  const bytes = ctx.monitorKey === undefined ? packet : signMonitorPacket(packet, ctx.monitorKey)
  return { _tag: "Reply", port: request.replyPort, bytes }
}

const COMMAND_NAMES: { readonly [K in Exclude<MonitorRequest["_tag"], "MON_STATUS_REQUEST">]: string } = {
  MON_PARTITION: "partition",
  MON_FLOW_CONTROL: "flow control",
  MON_RELOAD: "reload",
  MON_KILL: "kill"
}

/** A command refused: logged by the driver, reported to the monitor. */
const refuse = (
  request: MonitorRequest,
  ctx: MonitorContext,
  outcome: ReplyOutcome,
  reason: string
): ReadonlyArray<MonitorAction> => [{ _tag: "Refused", reason }, reply(request, ctx, outcome, reason)]

/** The windows after a `MON_FLOW_CONTROL`, or why they are not acceptable (§5.9, §5.10, §9.1). */
const newWindows = (
  p: MonFlowControl,
  ctx: MonitorContext,
  current: MonitorWindows,
  acceleratedRing: boolean
): MonitorWindows | string => {
  if (p.perDaemon.length !== ctx.configuredCount) {
    return `flow control names ${p.perDaemon.length} daemons, the configuration has ${ctx.configuredCount}`
  }
  const mine = p.perDaemon[ctx.myRank]!
  const w: MonitorWindows = {
    window: p.window ?? current.window,
    personalWindow: mine.personalWindow ?? current.personalWindow,
    acceleratedWindow: mine.acceleratedWindow ?? current.acceleratedWindow
  }
  if (w.window < 1 || w.personalWindow < 1) return "Window and PersonalWindow must be at least 1"
  if (w.window > ctx.maxWindow) return `Window ${w.window} exceeds ${ctx.maxWindow}, the commit token bound (§4.8.1)`
  if (w.personalWindow > w.window) return `PersonalWindow ${w.personalWindow} exceeds Window ${w.window}`
  if (acceleratedRing && w.acceleratedWindow > w.personalWindow) {
    return `AcceleratedWindow ${w.acceleratedWindow} exceeds PersonalWindow ${w.personalWindow}`
  }
  return w
}

const setWindows = (p: MonFlowControl, ctx: MonitorContext): MonitorAction => {
  const mine = p.perDaemon[ctx.myRank]!
  return {
    _tag: "SetWindows",
    ...(p.window === null ? {} : { window: p.window }),
    ...(mine.personalWindow === null ? {} : { personal: mine.personalWindow }),
    ...(mine.acceleratedWindow === null ? {} : { accelerated: mine.acceleratedWindow })
  }
}

/** A dangerous command that `DangerousMonitor` allows: check it, answer, act. */
const command = (
  p: Exclude<MonitorRequest, { readonly _tag: "MON_STATUS_REQUEST" }>,
  ctx: MonitorContext
): ReadonlyArray<MonitorAction> => {
  switch (p._tag) {
    case "MON_PARTITION":
      if (p.components.length !== ctx.configuredCount) {
        return refuse(p, ctx, "REFUSED_INVALID",
          `partition names ${p.components.length} daemons, the configuration has ${ctx.configuredCount}`)
      }
      return [reply(p, ctx, "ACCEPTED"), { _tag: "SetPartition", components: p.components }]
    case "MON_FLOW_CONTROL": {
      const status = ctx.status()
      const w = newWindows(p, ctx, status.windows, status.acceleratedRing)
      if (typeof w === "string") return refuse(p, ctx, "REFUSED_INVALID", w)
      return [reply(p, ctx, "ACCEPTED"), setWindows(p, ctx)]
    }
    case "MON_RELOAD":
      return [reply(p, ctx, "ACCEPTED"), { _tag: "Reload" }]
    case "MON_KILL": {
      const myId = ctx.status().myId
      return p.targets.includes(myId)
        ? [reply(p, ctx, "ACCEPTED"), { _tag: "Exit" }]
        : [reply(p, ctx, "ACCEPTED", "not among the kill targets")]
    }
  }
}

/**
 * Handles one monitor datagram (types 0x20–0x25, MAC trailer included) received on the DATA
 * port. Acceptance per §10: source IP of a configured daemon, the `MonitorKey` HMAC when one is
 * configured, the header checks of §4.1 with `senderId` = 0 and my config hash.
 *
 * @example
 * ```ts
 * for (const a of handleMonitorRequest(bytes, ctx)) {
 *   if (a._tag === "Reply") socket.send(a.bytes, a.port, rinfo.address)
 *   else if (a._tag === "SetPartition") partition.set(a.components, myRank, now)
 * }
 * ```
 */
export const handleMonitorRequest = (bytes: Buffer, ctx: MonitorContext): ReadonlyArray<MonitorAction> => {
  if (!ctx.sourceIsConfiguredDaemon) return dropped("monitor request from an address that is no configured daemon's")
  let packet = bytes
  if (ctx.monitorKey !== undefined) {
    const v = verifyMonitorPacket(bytes, ctx.monitorKey)
    if (!v.ok) return dropped(`monitor request without a valid MonitorKey HMAC (${v.reason})`)
    packet = v.packet
  }
  const decoded = decodeMonitorPacket(packet)
  if (!decoded.ok) return dropped(`malformed monitor packet: ${decoded.detail}`)
  const p = decoded.packet
  const hash = decoded.header.configHash
  if (hash !== ctx.configHash && p._tag !== "MON_RELOAD") return dropped("monitor request with another configuration hash")
  if (decoded.header.senderId !== 0) return dropped("monitor request with a sender id other than 0")
  if (p._tag === "MON_STATUS_REPLY") return dropped("a status reply is not a request")
  if (p._tag === "MON_STATUS_REQUEST") return [reply(p, ctx, "STATUS")]
  const answer = hash === ctx.configHash ? ctx : { ...ctx, configHash: hash }
  if (!ctx.dangerousMonitor) {
    return refuse(p, answer, "REFUSED_DANGEROUS", `${COMMAND_NAMES[p._tag]} refused: DangerousMonitor is off`)
  }
  return command(p, answer)
}

/**
 * The partition a monitor injected (§10): packets from daemons of another component are
 * dropped (§4.1 acceptance checks) until it is cleared, replaced, or {@link PARTITION_CLEAR_MS}
 * pass. Time is passed in, so the filter is as deterministic as the engine.
 */
export class PartitionFilter {
  private components: ReadonlyArray<number> | undefined
  private myComponent = 0
  private setAt = 0

  /** Installs `components` (rank order) as seen from `myRank`; all zeros clears. */
  set(components: ReadonlyArray<number>, myRank: number, now: number): void {
    if (components.every((c) => c === 0)) return this.clear()
    this.components = components
    this.myComponent = components[myRank] ?? 0
    this.setAt = now
  }

  /** True while a partition is installed and has not expired. */
  active(now: number): boolean {
    if (this.components === undefined) return false
    if (now - this.setAt < PARTITION_CLEAR_MS) return true
    this.clear()
    return false
  }

  /** Whether a packet from the daemon of rank `senderRank` is dropped. An unknown rank is not. */
  blocks(senderRank: number, now: number): boolean {
    if (!this.active(now)) return false
    const theirs = this.components![senderRank]
    return theirs !== undefined && theirs !== this.myComponent
  }

  clear(): void {
    this.components = undefined
  }
}
