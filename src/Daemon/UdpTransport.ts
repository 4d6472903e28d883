/**
 * The ring's real transport (daemon-protocol §3.2, §3.3, §9.2) as an Effect service: the
 * `SendUnicast` / `SendMulticast` outputs of the sans-IO core go out over UDP, and what arrives
 * comes back in one batch per event-loop turn, DATA before TOKEN unless told `TOKEN_FIRST`.
 *
 * Sockets, all held for the life of the Layer's scope:
 * * DATA on the segment port P and TOKEN on P + 1, bound to the bind address (§9.2); they only
 *   receive. On a multicast segment they join the group on my `D` interfaces.
 * * One send socket bound to my configured address on an ephemeral port, so that receivers see
 *   my configured IP as the source (§4.1 compares IPs only). Datagrams whose source is exactly this
 *   address and port are my own multicast or broadcast coming back and are dropped (§3.3 rule 3).
 *
 * Hot path: `sendUnicast`, `sendMulticast` and the batch handler are plain synchronous code.
 * A bad send (unknown or unaddressed daemon, myself, oversized, after close) is counted and
 * answered with a {@link UdpSendRejected} value, never thrown; an OS send error is counted and
 * logged (at most once a second), never fatal.
 *
 * @example
 * const program = Effect.gen(function*() {
 *   const udp = yield* UdpTransport
 *   udp.onDatagrams((batch) => { for (const d of batch) engine.step({ _tag: "PacketReceived", now: Date.now(), channel: d.channel, source: d.address, bytes: d.bytes }) })
 *   udp.sendMulticast(ringMembers, "DATA", bytes)
 * }).pipe(Effect.provide(UdpTransport.layer(UdpTransport.optionsFrom(config, me))))
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from "node:dgram"
import { isIP } from "node:net"
import { networkInterfaces } from "node:os"
import { isMulticast, withoutScope } from "../Config/Address.js"
import { MAX_DATAGRAM } from "../Config/Defaults.js"
import type { DaemonEntry, IpVersion, Segment, SpreadConfig } from "../Config/Model.js"
import type { Channel } from "../Membership/Ring/Types.js"
import { buildRoutes, defaultBindAddress, multicastInterfaces, multicastSendInterface, portOf, scopedToInterface, type UdpRoute } from "./UdpRoutes.js"

/** A DATA or TOKEN socket (or the send socket) could not be opened. */
export class UdpBindError extends Data.TaggedError("UdpBindError")<{
  readonly address: string
  readonly port: number
  readonly reason: string
}> {
  override get message(): string {
    return `cannot bind UDP ${this.address}:${this.port}: ${this.reason}`
  }
}

/** Joining my segment's multicast group failed (and `IgnoreMulticastJoinErrors` is off). */
export class UdpMulticastJoinError extends Data.TaggedError("UdpMulticastJoinError")<{
  readonly group: string
  readonly interfaceAddress: string | undefined
  readonly reason: string
}> {
  override get message(): string {
    return `cannot join multicast group ${this.group} on ${this.interfaceAddress ?? "the default interface"}: ${this.reason}`
  }
}

export type UdpSendRejectReason = "UnknownDaemon" | "NoAddress" | "Self" | "TooLarge" | "Closed"

/** A send the transport refused before it reached the OS. Returned, never thrown. */
export class UdpSendRejected extends Data.TaggedError("UdpSendRejected")<{
  readonly reason: UdpSendRejectReason
  /** The daemon the datagram was for; `undefined` for a group datagram. */
  readonly daemonId: number | undefined
}> {
  override get message(): string {
    return `UDP send refused (${this.reason})${this.daemonId === undefined ? "" : ` to daemon ${this.daemonId}`}`
  }
}

export type ReadPriority = "DATA_FIRST" | "TOKEN_FIRST"

/** One received datagram. `address` is the source IP (§4.1: the core compares it with the claimed sender's). */
export interface UdpDatagram {
  readonly channel: Channel
  readonly bytes: Buffer
  readonly address: string
  readonly port: number
}

export interface UdpStats {
  /** Datagrams handed to the OS. */
  readonly sent: number
  /** Sends the OS reported failed (asynchronously). */
  readonly sendErrors: number
  /** Sends refused before the OS, by reason. */
  readonly rejected: Readonly<Record<UdpSendRejectReason, number>>
  /** Datagrams received and handed to the handler. */
  readonly received: number
  /** Own multicast/broadcast datagrams that came back and were dropped. */
  readonly droppedOwn: number
  /** Datagrams received while no handler was installed. */
  readonly droppedNoHandler: number
}

export interface UdpTransportOptions {
  /** My daemon entry (its configured address is the source of everything I send). */
  readonly me: DaemonEntry
  readonly segments: ReadonlyArray<Segment>
  readonly daemons: ReadonlyArray<DaemonEntry>
  /** `Transport` (§9.2). */
  readonly transport: "multicast" | "unicast"
  readonly ipVersion: IpVersion
  /** Where the DATA and TOKEN sockets bind; default: see `defaultBindAddress` in `UdpRoutes`. */
  readonly bindAddress?: string
  /** `IgnoreMulticastJoinErrors`: carry on (with a warning) when a group join fails. */
  readonly ignoreMulticastJoinErrors?: boolean
  /** `SocketPortReuse = on`: SO_REUSEADDR on the DATA and TOKEN sockets. */
  readonly reuseAddress?: boolean
  /** SO_RCVBUF of the DATA and TOKEN sockets, if set (the kernel may cap it). */
  readonly receiveBufferBytes?: number
}

export interface UdpTransportShape {
  /** The local addresses actually bound. */
  readonly local: {
    readonly bindAddress: string
    readonly dataPort: number
    readonly tokenPort: number
    readonly sendAddress: string
    readonly sendPort: number
    /** SO_RCVBUF of the DATA socket as the kernel set it (Linux reports twice the request, capped). */
    readonly receiveBufferBytes: number
  }
  /** `SendUnicast`: one datagram to the daemon's address, port P (DATA) or P + 1 (TOKEN). */
  readonly sendUnicast: (daemonId: number, channel: Channel, bytes: Uint8Array) => UdpSendRejected | undefined
  /**
   * `SendMulticast`: `scope` is the target daemon ids (the members a `RING` scope reaches now;
   * my own id is skipped) or `"CONFIGURED"` (every configured daemon but me). Mapped per §9.2.
   * Unknown ids are skipped and reported (the first one is returned); the others still get it.
   */
  readonly sendMulticast: (scope: ReadonlyArray<number> | "CONFIGURED", channel: Channel, bytes: Uint8Array) => UdpSendRejected | undefined
  /** §3.2 `SendToAddress`: one datagram to any address, from the DATA socket (monitor replies only). */
  readonly sendToAddress: (address: string, port: number, bytes: Uint8Array) => UdpSendRejected | undefined
  /**
   * Installs the receiver (replacing any previous one). Called at most once per event-loop turn
   * with everything that arrived in that turn, DATA before TOKEN (or TOKEN first, see
   * {@link setReadPriority}); arrival order within a channel is kept.
   */
  readonly onDatagrams: (handler: (batch: ReadonlyArray<UdpDatagram>) => void) => void
  /** §3.2 `ReadPriority`: the order of the channels in the next batches. Default `DATA_FIRST`. */
  readonly setReadPriority: (priority: ReadPriority) => void
  /**
   * daemon-protocol §9.5: route to the daemons of a reloaded configuration (new ones reachable,
   * removed ones unknown). My own entry is unchanged (a reload that changes it is fatal), so
   * the sockets, their bind address and my segment's group stay as opened; so does `Transport`.
   */
  readonly reconfigure: (config: Pick<UdpTransportOptions, "me" | "segments" | "daemons">) => void
  readonly stats: () => UdpStats
}

export class UdpTransport extends Context.Service<UdpTransport, UdpTransportShape>()("spread/UdpTransport") {
  static readonly layer = (options: UdpTransportOptions): Layer.Layer<UdpTransport, UdpBindError | UdpMulticastJoinError> =>
    Layer.effect(UdpTransport, make(options))

  /** The options of the configuration's settings for daemon `me`. */
  static readonly optionsFrom = (config: SpreadConfig, me: DaemonEntry): UdpTransportOptions => ({
    me,
    segments: config.segments,
    daemons: config.daemons,
    transport: config.transport,
    ipVersion: config.ipVersion,
    ignoreMulticastJoinErrors: config.host.ignoreMulticastJoinErrors,
    reuseAddress: config.host.socketPortReuse === "on",
    receiveBufferBytes: receiveBufferFor(config.windows.window, config.limits.maxPacketSize)
  })
}

/**
 * SO_RCVBUF of the DATA and TOKEN sockets for a configuration's `Window` and `MaxPacketSize`: room for two rings' worth of the
 * largest datagrams (§5.9: at most `Window` new packets per rotation, plus retransmissions), so
 * a burst that arrives while the daemon is busy is not dropped by the kernel (a drop costs a
 * retransmission request and a rotation). Linux's default (208 KiB) holds only ~140 packets of
 * 1472 bytes and a dozen of 16,000. The kernel caps the request at `net.core.rmem_max`.
 */
export const receiveBufferFor = (window: number, maxPacketSize: number): number =>
  Math.min(MAX_RECEIVE_BUFFER, Math.max(MIN_RECEIVE_BUFFER, 2 * window * maxPacketSize))

const MIN_RECEIVE_BUFFER = 1024 * 1024
const MAX_RECEIVE_BUFFER = 32 * 1024 * 1024

/** At most one send-error log line per this many milliseconds. */
const SEND_ERROR_LOG_INTERVAL_MS = 1_000

const make = Effect.fnUntraced(function*(options: UdpTransportOptions) {
  const context = yield* Effect.context<never>()
  const runLog = Effect.runForkWith(context)

  const { me } = options
  let routes = buildRoutes(options)
  const type = options.ipVersion === "IPv6" ? "udp6" : "udp4"
  const bindAddress = options.bindAddress ?? defaultBindAddress(me, routes, options.ipVersion)
  if (me.address === null) {
    return yield* new UdpBindError({ address: "(none)", port: 0, reason: `daemon ${me.name} has no resolved address` })
  }
  const sendAddress = me.address
  const ownAddress = withoutScope(sendAddress)

  // State of the receive side.
  let handler: ((batch: ReadonlyArray<UdpDatagram>) => void) | undefined
  let priority: ReadPriority = "DATA_FIRST"
  let dataArrived: Array<UdpDatagram> = []
  let tokenArrived: Array<UdpDatagram> = []
  let flushPending: NodeJS.Immediate | undefined
  let closed = false
  let sendPort = 0

  // Counters.
  let sent = 0
  let sendErrors = 0
  let received = 0
  let droppedOwn = 0
  let droppedNoHandler = 0
  const rejected: Record<UdpSendRejectReason, number> = { UnknownDaemon: 0, NoAddress: 0, Self: 0, TooLarge: 0, Closed: 0 }
  let lastSendErrorLog = 0
  let suppressedSendErrors = 0

  const flush = (): void => {
    flushPending = undefined
    const first = priority === "DATA_FIRST" ? dataArrived : tokenArrived
    const second = priority === "DATA_FIRST" ? tokenArrived : dataArrived
    dataArrived = []
    tokenArrived = []
    const batch = second.length === 0 ? first : first.length === 0 ? second : first.concat(second)
    const h = handler
    if (h === undefined) {
      droppedNoHandler += batch.length
      return
    }
    received += batch.length
    try {
      h(batch)
    } catch (e) {
      runLog(Effect.logError(`UDP datagram handler failed: ${e instanceof Error ? e.message : String(e)}`))
    }
  }

  const arrive = (channel: Channel) => (bytes: Buffer, rinfo: RemoteInfo): void => {
    if (closed) return
    if (rinfo.port === sendPort && withoutScope(rinfo.address) === ownAddress) {
      droppedOwn++
      return
    }
    const d: UdpDatagram = { channel, bytes, address: rinfo.address, port: rinfo.port }
    if (channel === "DATA") dataArrived.push(d)
    else tokenArrived.push(d)
    if (flushPending === undefined) flushPending = setImmediate(flush)
  }

  /** A send failed (reported by the socket's `error` event, or thrown). Rate-limited in the log. */
  const onSendError = (error: Error): void => {
    sendErrors++
    const now = Date.now()
    if (now - lastSendErrorLog < SEND_ERROR_LOG_INTERVAL_MS) {
      suppressedSendErrors++
      return
    }
    lastSendErrorLog = now
    const more = suppressedSendErrors === 0 ? "" : ` (${suppressedSendErrors} more since the last report)`
    suppressedSendErrors = 0
    runLog(Effect.logWarning(`UDP send failed: ${error.message}${more}`))
  }

  const reject = (reason: UdpSendRejectReason, daemonId: number | undefined): UdpSendRejected => {
    rejected[reason]++
    return new UdpSendRejected({ reason, daemonId })
  }

  const sendTo = (socket: Socket, bytes: Uint8Array, port: number, address: string): UdpSendRejected | undefined => {
    try {
      // No callback: Node then sends at once when it can (no request object, no completion
      // callback next turn) — a third of the cost of a datagram on a busy ring. Failures come
      // as the socket's `error` event.
      socket.send(bytes, port, address)
      sent++
      return undefined
    } catch (e) {
      // Only a closed socket or an invalid argument throw synchronously.
      onSendError(e instanceof Error ? e : new Error(String(e)))
      return undefined
    }
  }

  const precheck = (bytes: Uint8Array): UdpSendRejected | undefined => {
    if (closed) return reject("Closed", undefined)
    if (bytes.length > MAX_DATAGRAM) return reject("TooLarge", undefined)
    return undefined
  }

  const routeOf = (daemonId: number): UdpRoute | UdpSendRejected => {
    const route = routes.byId.get(daemonId)
    if (route !== undefined) return route
    if (daemonId === routes.myId) return reject("Self", daemonId)
    return reject(routes.unaddressed.has(daemonId) ? "NoAddress" : "UnknownDaemon", daemonId)
  }

  // Sockets. Registered in this order, released in the reverse one.
  const sender = yield* openSocket(type, sendAddress, 0, false, undefined, () => {}, onSendError, runLog)
  sendPort = sender.address().port
  const dataSocket = yield* openSocket(type, bindAddress, me.port, options.reuseAddress ?? false, options.receiveBufferBytes, arrive("DATA"), onSendError, runLog)
  const tokenSocket = yield* openSocket(type, bindAddress, me.port + 1, options.reuseAddress ?? false, options.receiveBufferBytes, arrive("TOKEN"), onSendError, runLog)
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      closed = true
      if (flushPending !== undefined) clearImmediate(flushPending)
      flushPending = undefined
      dataArrived = []
      tokenArrived = []
      handler = undefined
    })
  )

  const group = routes.group
  if (group !== undefined) {
    if (group.kind === "broadcast") sender.setBroadcast(true)
    else {
      const local = networkInterfaces()
      const outgoing = multicastSendInterface(sendAddress, local)
      if (outgoing !== undefined) {
        try {
          sender.setMulticastInterface(outgoing)
        } catch (e) {
          runLog(Effect.logWarning(`cannot set the multicast interface ${outgoing}: ${errorText(e)}`))
        }
      }
      for (const groupAddress of group.addresses.filter(isMulticast)) {
        for (const address of multicastInterfaces(me)) {
          const iface = address === undefined ? undefined : scopedToInterface(address, local)
          for (const socket of [dataSocket, tokenSocket]) {
            try {
              socket.addMembership(groupAddress, iface)
            } catch (e) {
              const error = new UdpMulticastJoinError({ group: groupAddress, interfaceAddress: iface, reason: errorText(e) })
              if (options.ignoreMulticastJoinErrors !== true) return yield* error
              yield* Effect.logWarning(`${error.message} (ignored: IgnoreMulticastJoinErrors)`)
            }
          }
        }
      }
    }
  }

  const portFor = (route: { readonly port: number }, channel: Channel) => portOf(route.port, channel)

  const sendUnicast = (daemonId: number, channel: Channel, bytes: Uint8Array): UdpSendRejected | undefined => {
    const bad = precheck(bytes)
    if (bad !== undefined) return bad
    const route = routeOf(daemonId)
    if (route instanceof UdpSendRejected) return route
    return sendTo(sender, bytes, portFor(route, channel), route.address)
  }

  const sendGroup = (channel: Channel, bytes: Uint8Array): void => {
    if (group !== undefined) sendTo(sender, bytes, portFor(group, channel), group.addresses[0]!)
  }

  const sendMulticast = (scope: ReadonlyArray<number> | "CONFIGURED", channel: Channel, bytes: Uint8Array): UdpSendRejected | undefined => {
    const bad = precheck(bytes)
    if (bad !== undefined) return bad
    if (scope === "CONFIGURED") {
      if (routes.configuredUsesGroup) sendGroup(channel, bytes)
      for (const route of routes.configuredUnicasts) sendTo(sender, bytes, portFor(route, channel), route.address)
      return undefined
    }
    let viaGroup = false
    let firstProblem: UdpSendRejected | undefined
    for (const id of scope) {
      if (id === routes.myId) continue
      const route = routeOf(id)
      if (route instanceof UdpSendRejected) firstProblem ??= route
      else if (route.viaGroup) viaGroup = true
      else sendTo(sender, bytes, portFor(route, channel), route.address)
    }
    if (viaGroup) sendGroup(channel, bytes)
    return firstProblem
  }

  yield* Effect.logDebug(
    `UDP transport ready: data ${bindAddress}:${me.port}, token ${bindAddress}:${me.port + 1}, send ${sendAddress}:${sendPort}` +
      (group === undefined ? ", unicast fan-out" : `, ${group.kind} ${group.addresses[0]}`)
  )

  const shape: UdpTransportShape = {
    local: { bindAddress, dataPort: me.port, tokenPort: me.port + 1, sendAddress, sendPort, receiveBufferBytes: dataSocket.getRecvBufferSize() },
    sendUnicast,
    sendMulticast,
    sendToAddress: (address, port, bytes) => precheck(bytes) ?? sendTo(dataSocket, bytes, port, address),
    onDatagrams: (h) => {
      handler = h
    },
    setReadPriority: (p) => {
      priority = p
    },
    reconfigure: (config) => {
      routes = buildRoutes({ ...config, transport: options.transport })
    },
    stats: () => ({ sent, sendErrors, rejected: { ...rejected }, received, droppedOwn, droppedNoHandler })
  }
  return shape
})

/**
 * Every address the transport uses is a canonical IP from the configuration, so `send` needs no
 * name lookup: answering at once (instead of `dns.lookup`'s next tick) sends the datagram within
 * the `send` call, in call order.
 */
const literalLookup: NonNullable<SocketOptions["lookup"]> = (hostname, _options, callback) => {
  const family = isIP(hostname)
  if (family !== 0) callback(null, hostname, family)
  else callback(Object.assign(new Error(`not an IP address: ${hostname}`), { code: "EINVAL" }), "", 0)
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Binds a UDP socket for the life of the scope; its `error` events are logged, never thrown. */
const openSocket = (
  type: "udp4" | "udp6",
  address: string,
  port: number,
  reuseAddr: boolean,
  receiveBufferBytes: number | undefined,
  onMessage: (bytes: Buffer, rinfo: RemoteInfo) => void,
  onError: (e: Error) => void,
  runLog: (effect: Effect.Effect<void>) => unknown
) =>
  Effect.acquireRelease(
    Effect.callback<Socket, UdpBindError>((resume) => {
      const socket = createSocket({ type, reuseAddr, lookup: literalLookup })
      const onBindError = (e: Error): void => {
        socket.close()
        resume(Effect.fail(new UdpBindError({ address, port, reason: e.message })))
      }
      socket.once("error", onBindError)
      socket.once("listening", () => {
        socket.off("error", onBindError)
        socket.on("error", onError)
        if (receiveBufferBytes !== undefined) {
          try {
            socket.setRecvBufferSize(receiveBufferBytes)
          } catch (e) {
            runLog(Effect.logWarning(`cannot set the receive buffer of ${address}:${port}: ${errorText(e)}`))
          }
        }
        resume(Effect.succeed(socket))
      })
      socket.on("message", onMessage)
      try {
        socket.bind({ address, port, exclusive: true })
      } catch (e) {
        onBindError(e instanceof Error ? e : new Error(String(e)))
      }
    }),
    (socket) =>
      Effect.callback<void>((resume) => {
        try {
          socket.close(() => resume(Effect.void))
        } catch {
          resume(Effect.void)
        }
      })
  )
