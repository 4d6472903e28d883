/**
 * The daemon's side of the monitor (daemon-protocol §10): monitor datagrams arriving on the DATA
 * port go to the pure handler ({@link handleMonitorRequest}) instead of the ring, and its actions
 * are carried out here: the reply, an injected partition (a {@link PartitionFilter} every ring
 * datagram passes), new windows, a reload (§9.5: the driver re-reads the file) and the exit of
 * a kill. After a reload the port follows the new file ({@link MonitorPort.reconfigure}).
 */
import type { SpreadConfig } from "../Config/index.js"
import type { DaemonCore } from "../Membership/DaemonCore.js"
import { handleMonitorRequest, largestWindow, PartitionFilter } from "../Membership/Monitor.js"
import { SPREAD_VERSION } from "../Protocol/index.js"
import { OFF_SENDER_ID } from "../Protocol/Ring/Header.js"
import { isMonitorDatagram, monitorKeyBytes, type StatusReplyFields } from "../Protocol/Ring/Monitor.js"
import type { UdpDatagram, UdpTransportShape } from "./UdpTransport.js"

export interface MonitorHooks {
  readonly log: (level: "Info" | "Warn", message: string) => void
  /** A monitor kill named this daemon. */
  readonly exit: () => void
  /** A monitor asked for a reload (§9.5): re-read the configuration file. */
  readonly reload: (requester: string) => void
}

/** What the port derives from the configuration; replaced on a reload. */
interface PortConfig {
  readonly config: SpreadConfig
  readonly rankOf: ReadonlyMap<number, number>
  /** §10: monitor requests come from a configured daemon's IP. */
  readonly addresses: ReadonlySet<string>
  readonly myRank: number
  readonly key: Uint8Array | undefined
  readonly maxWindow: number
}

const portConfig = (config: SpreadConfig, myId: number): PortConfig => {
  const rankOf = new Map(config.daemons.map((d) => [d.id, d.rank]))
  return {
    config,
    rankOf,
    addresses: new Set(config.daemons.flatMap((d) => (d.address === null ? [] : [d.address]))),
    myRank: rankOf.get(myId) ?? 0,
    key: config.access.monitorKey === null ? undefined : monitorKeyBytes(config.access.monitorKey),
    maxWindow: largestWindow(config.daemons.length, config.limits.maxSeqGap)
  }
}

export class MonitorPort {
  private readonly partition = new PartitionFilter()
  private current: PortConfig
  private readonly startedAt: number

  constructor(
    config: SpreadConfig,
    private readonly myId: number,
    private readonly core: DaemonCore,
    private readonly udp: UdpTransportShape,
    private readonly hooks: MonitorHooks,
    now: number
  ) {
    this.current = portConfig(config, myId)
    this.startedAt = now
  }

  /**
   * §9.5: the engine runs on a reloaded configuration. Its addresses, ranks, `DangerousMonitor`
   * and `MonitorKey` apply from now on. Decision: an injected partition is lifted, since its
   * components name daemons by the old ranks.
   */
  reconfigure(config: SpreadConfig): void {
    this.current = portConfig(config, this.myId)
    this.partition.clear()
  }

  /**
   * Looks at one received datagram: true if it is consumed here (a monitor request, or a ring
   * packet from a daemon the injected partition cuts off), false if it goes to the ring.
   */
  intercept(d: UdpDatagram, now: number): boolean {
    if (d.channel === "DATA" && isMonitorDatagram(d.bytes)) {
      this.handle(d, now)
      return true
    }
    if (d.bytes.length < OFF_SENDER_ID + 4) return false
    const rank = this.current.rankOf.get(d.bytes.readUInt32LE(OFF_SENDER_ID))
    return rank !== undefined && this.partition.blocks(rank, now)
  }

  private handle(d: UdpDatagram, now: number): void {
    const c = this.current
    const actions = handleMonitorRequest(d.bytes, {
      dangerousMonitor: c.config.access.dangerousMonitor,
      monitorKey: c.key,
      sourceIsConfiguredDaemon: c.addresses.has(d.address),
      configHash: this.core.engine.config.configHash,
      myRank: c.myRank,
      configuredCount: c.config.daemons.length,
      maxWindow: c.maxWindow,
      status: () => this.status(now)
    })
    for (const a of actions) {
      switch (a._tag) {
        case "Reply":
          this.udp.sendToAddress(d.address, a.port, a.bytes)
          break
        case "SetPartition":
          this.partition.set(a.components, c.myRank, now)
          this.hooks.log("Warn", `monitor ${d.address}: partition ${a.components.every((c) => c === 0) ? "cleared" : `set to ${a.components.join(",")}`}`)
          break
        case "SetWindows": {
          const ok = this.core.engine.setWindows(a)
          const w = this.core.engine.config
          this.hooks.log(ok ? "Info" : "Warn", `monitor ${d.address}: windows ${ok ? "now" : "unchanged, the request breaks their order; still"} ${w.window}/${w.personalWindow}/${w.acceleratedWindow}`)
          break
        }
        case "Reload":
          this.hooks.log("Info", `monitor ${d.address}: reload`)
          this.hooks.reload(d.address)
          break
        case "Exit":
          this.hooks.log("Warn", `monitor ${d.address}: kill`)
          this.hooks.exit()
          break
        case "Refused":
          this.hooks.log("Warn", `monitor ${d.address}: refused: ${a.reason}`)
          break
        case "Dropped":
          this.hooks.log("Info", `monitor datagram from ${d.address} ignored: ${a.reason}`)
          break
      }
    }
  }

  private status(now: number): StatusReplyFields {
    const engine = this.core.engine
    const c = engine.counters
    const ring = engine.ring
    const w = engine.config
    const operational = engine.state === "OPERATIONAL"
    return {
      uptimeMs: Math.round(now - this.startedAt),
      state: engine.state,
      gstate: this.core.groups.gstate,
      myId: this.myId,
      leaderId: operational && ring !== undefined ? ring.ringId.rep : 0,
      ringId: ring?.ringId ?? { seq: 0, rep: 0 },
      windows: { window: w.window, personalWindow: w.personalWindow, acceleratedWindow: w.acceleratedWindow },
      acceleratedRing: w.acceleratedRing,
      sessions: this.core.sessionCount,
      groups: this.core.groups.groupCount,
      counters: {
        packetsSent: c.packetsSent,
        packetsReceived: c.packetsReceived,
        packetsDelivered: c.packetsDelivered,
        retransmissionsUnicast: c.retransmissionsUnicast,
        retransmissionsMulticast: c.retransmissionsMulticast,
        aru: ring?.stableAru ?? 0,
        myAru: ring?.myAru ?? 0,
        highSeq: ring?.highSeq ?? 0,
        // Decision: a "hurry" is a token request of an idle ring's member (§5.12).
        tokenHurries: c.tokenRequestsSent,
        tokenRetransmissions: c.tokenRetransmits,
        rotations: c.tokensAccepted,
        messagesDelivered: c.messagesDelivered,
        membershipChanges: this.core.regularInstalls
      },
      members: engine.ringMembers,
      daemonName: this.core.daemonName,
      version: `${SPREAD_VERSION.major}.${SPREAD_VERSION.minor}.${SPREAD_VERSION.patch} (spread-ts)`
    }
  }
}
