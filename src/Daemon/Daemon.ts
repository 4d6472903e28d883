/**
 * The daemon as an Effect service: the sans-IO core ({@link DaemonCore}: sessions, groups and
 * the ring engine) wired to real client listeners (TCP and the Unix socket, client-protocol
 * §2.1), the ring's UDP sockets ({@link UdpTransport}, daemon-protocol §9.2) and real timers.
 * The Layer owns every resource: closing its scope (SIGINT, SIGTERM) ends every session, tells
 * the ring this daemon leaves (§6.13), closes the listeners and removes the Unix socket file.
 *
 * A monitor `RELOAD` (daemon-protocol §9.5) re-reads the file the daemon was started with: a
 * file that does not parse or validate is logged and changes nothing; otherwise the ring engine
 * decides (it may defer, re-form the ring, isolate itself, or exit) and, once it runs on the new
 * configuration, the UDP routes, the monitor port and the log's names follow. Client-side
 * settings (listeners, authentication, session limits) and the sockets stay as started.
 *
 * Hot path: socket reads and datagrams go straight into plain-TypeScript core code; deliveries
 * are batched per session and flushed once per event-loop turn.
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { chmodSync, unlinkSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import { formatAddressWithPort } from "../Config/Address.js"
import type { SpreadConfig } from "../Config/index.js"
import { DaemonCore } from "../Membership/DaemonCore.js"
import type { RingConfig } from "../Membership/Ring/RingConfig.js"
import { encodeRejectByte, MAX_SESSIONS, REJECT_QUOTA } from "../Protocol/index.js"
import type { AuthPolicy } from "./Auth.js"
import { ListenError } from "./Errors.js"
import { type OutboxLimits, SLOW_READER_GRACE_MS } from "./Outbox.js"
import { MonitorPort } from "./MonitorPort.js"
import { type ConfigSource, type DaemonConfig, namesOf, reloadConfig } from "./Options.js"
import { RingTimers } from "./RingTimers.js"
import type { StateFile } from "./StateFile.js"
import { SessionSocket } from "./SessionSocket.js"
import { type UdpBindError, type UdpMulticastJoinError, UdpTransport, type UdpTransportOptions } from "./UdpTransport.js"

export interface TcpAddress {
  readonly host: string
  readonly port: number
}

export interface DaemonOptions {
  readonly daemonName: string
  readonly daemonId: number
  readonly tcp: ReadonlyArray<TcpAddress>
  /** `/tmp/<port>` normally; undefined for no Unix socket. */
  readonly unixPath: string | undefined
  readonly auth: AuthPolicy
  readonly limits: OutboxLimits
  /** The whole configuration (the monitor needs its access settings and daemons). */
  readonly config: SpreadConfig
  /** The file a monitor `RELOAD` re-reads (§9.5); undefined for the zero-configuration daemon. */
  readonly source: ConfigSource | undefined
  /** The ring engine's view of the configuration (daemon-protocol §9, §12). */
  readonly ring: RingConfig
  /** The data and token sockets (daemon-protocol §9.2). */
  readonly udp: UdpTransportOptions
  /** Daemon names by id, for the log. */
  readonly names: ReadonlyMap<number, string>
  /** daemon-protocol §2.2 and §6.10.1. */
  readonly incarnation: number
  /** Where `PersistRingSeq` goes (`RuntimeDir`); undefined: ring seqs start above the clock. */
  readonly state: StateFile | undefined
  readonly ringSeqFloor: number
  readonly seed: number
  /** Tests only (`--test-drop-rate`): the fraction of received datagrams dropped at random. */
  readonly dropRate: number
}

export interface DaemonShape {
  readonly options: DaemonOptions
  /** Connections currently open (handshaking or operational). */
  readonly connectionCount: () => number
  /** Completes with an exit code when the ring engine exits (a monitor kill, daemon-protocol §10). */
  readonly exited: Effect.Effect<number>
}

export class SpreadDaemon extends Context.Service<SpreadDaemon, DaemonShape>()("spread/Daemon") {
  static readonly layer = (options: DaemonOptions): Layer.Layer<SpreadDaemon, ListenError | UdpBindError | UdpMulticastJoinError> =>
    Layer.effect(SpreadDaemon, make(options)).pipe(Layer.provide(UdpTransport.layer(options.udp)))
}

/** Monotonic milliseconds: the ring's timers and intervals must not jump with the wall clock. */
const clock = (): number => performance.now()

const make = Effect.fnUntraced(function*(options: DaemonOptions) {
  const context = yield* Effect.context<never>()
  const runLog = Effect.runForkWith(context)
  const log = (level: "Info" | "Warn", message: string): void => {
    runLog(level === "Info" ? Effect.logInfo(message) : Effect.logWarning(message))
  }
  const udp = yield* UdpTransport
  const exit = yield* Deferred.make<number>()

  const connections = new Map<number, SessionSocket>()
  const dirty = new Set<SessionSocket>()
  let flushScheduled = false
  let readsPaused = false

  const cutOff = (s: SessionSocket, why: string): void => {
    log("Warn", `session ${s.id} (${s.peer}): slow reader cut off: ${why}`)
    s.session.end("slow reader")
  }

  // One flush per turn: first cut off slow readers (their kills queue membership notices for
  // others), then hand every session's batch to its socket.
  const flush = (): void => {
    flushScheduled = false
    for (const s of dirty) {
      if (s.outbox.overflowed && !s.session.isClosed) cutOff(s, `${s.outbox.queuedMessages} messages queued`)
    }
    for (const s of dirty) s.flush()
    dirty.clear()
  }
  const markDirty = (s: SessionSocket): void => {
    dirty.add(s)
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
  }

  const timers = new RingTimers((name, generation) => core.timer(clock(), name, generation))
  yield* Effect.addFinalizer(() => Effect.sync(() => timers.clear()))
  let names = options.names
  const nameOf = (id: number): string => names.get(id) ?? `0x${(id >>> 0).toString(16)}`

  // §9.5: the configuration last handed to the engine, until the engine says it runs on it.
  let reloaded: DaemonConfig | undefined
  const reload = (requester: string): void => {
    const source = options.source
    if (source === undefined) return log("Warn", `reload requested by ${requester}: this daemon was started without a configuration file`)
    runLog(reloadConfig(source).pipe(Effect.match({
      onFailure: (e) => log("Warn", `reload requested by ${requester}: ${e._tag}: ${e.message}; the configuration stays as it is`),
      onSuccess: (next) => {
        reloaded = next
        core.reconfigure(clock(), next.ring)
      }
    })))
  }
  /** The engine runs on `ring` (a `Reconfigured` output): everything else that reads the configuration follows. */
  const reconfigured = (ring: RingConfig): void => {
    const next = reloaded
    // The engine adopts only what it was handed, and a newer reload replaces a deferred one.
    if (next?.ring !== ring) throw new Error("invariant: the engine adopted a configuration it was not handed")
    const me = next.config.daemons.find((d) => d.id === options.daemonId)!
    udp.reconfigure({ me, segments: next.config.segments, daemons: next.config.daemons })
    monitor.reconfigure(next.config)
    names = namesOf(next.config)
    log("Info", `now on configuration hash 0x${hex8(next.hash)}: ${next.config.daemons.map((d) => d.name).join(" ")}`)
  }

  const core: DaemonCore = new DaemonCore(
    {
      daemonName: options.daemonName,
      daemonId: options.daemonId,
      ring: options.ring,
      incarnation: options.incarnation,
      ringSeqFloor: options.ringSeqFloor,
      seed: options.seed,
      now: clock(),
      engine: { traceSends: false }
    },
    {
      deliver: (id, bytes, from) => connections.get(id)?.deliver(bytes, from === undefined ? undefined : connections.get(from)),
      close: (id) => connections.get(id)?.close(),
      pauseClientReads: (paused) => {
        readsPaused = paused
        for (const s of connections.values()) s.holdReads(paused)
      },
      perform: (o) => {
        switch (o._tag) {
          case "SendUnicast":
            return void udp.sendUnicast(o.to, o.channel, o.bytes)
          case "SendMulticast":
            return void udp.sendMulticast(o.scope === "RING" ? core.engine.ringMembers : "CONFIGURED", o.channel, o.bytes)
          case "SetTimer":
            return timers.set(o.timer, o.delay, o.generation)
          case "CancelTimer":
            return timers.cancel(o.timer)
          case "ReadPriority":
            return udp.setReadPriority(o.priority)
          case "PersistRingSeq":
            try {
              options.state?.persistRingSeq(o.seq)
            } catch (e) {
              // Decision: the ring goes on (a full disk must not stop it); the log says the
              // guarantee of §6.10.1 R1 is weakened until the next successful write.
              log("Warn", `cannot persist ring seq ${o.seq}: ${e instanceof Error ? e.message : String(e)}`)
            }
            return
          case "Exit":
            return void Deferred.doneUnsafe(exit, Exit.succeed(o.code))
          case "Reconfigured":
            return reconfigured(o.config)
        }
      },
      event: (e) => {
        switch (e._tag) {
          case "Installed":
            return log(
              "Info",
              `${e.kind === "REG" ? "regular" : "transitional"} configuration (${e.seq}, ${nameOf(e.rep)}): ${e.members.map(nameOf).join(" ")}`
            )
          case "SubmitRefused":
            return log("Warn", `message refused by the ring${e.sessionId === undefined ? "" : ` (session ${e.sessionId})`}: ${e.reason}`)
          case "BadEnvelope":
            return log("Warn", `ignored a delivered message from ${nameOf(e.from)}: ${e.reason}`)
          case "Trace": {
            const t = e.output.event
            if (t.type === "reload") return log(t.outcome === "refused" || t.outcome === "fatal" ? "Warn" : "Info", `reload: ${t.outcome}: ${t.detail}`)
            if (t.type !== "configMismatch") return
            return log(
              "Warn",
              `refused packets from ${t.source} (daemon 0x${(t.senderId >>> 0).toString(16)}): its configuration hash 0x${hex8(t.hash)} is not ours (0x${hex8(core.engine.config.configHash)})`
            )
          }
        }
      }
    }
  )

  const monitor = new MonitorPort(options.config, options.daemonId, core, udp, {
    log,
    exit: () => Deferred.doneUnsafe(exit, Exit.succeed(0)),
    reload
  }, clock())
  udp.onDatagrams((batch) => {
    const now = clock()
    for (const d of batch) {
      if (options.dropRate > 0 && Math.random() < options.dropRate) continue
      if (monitor.intercept(d, now)) continue
      core.packet(now, d.channel, d.address, d.bytes)
    }
  })
  core.start()
  // Registered before the listeners' finalizers, so it runs after them: the sessions are gone,
  // then the ring hears that this daemon leaves (daemon-protocol §6.13).
  yield* Effect.addFinalizer(() => Effect.sync(() => core.shutdown(clock())))

  let nextId = 1
  const accept = (socket: Socket, peer: string): void => {
    if (connections.size >= MAX_SESSIONS) {
      // client-protocol §3.3 step 1: REJECT_QUOTA before reading anything.
      log("Warn", `refused ${peer}: ${MAX_SESSIONS} sessions already`)
      socket.end(encodeRejectByte(REJECT_QUOTA))
      return
    }
    const id = nextId++
    const session = new SessionSocket(id, socket, core, options.auth, options.limits, {
      log,
      dirty: markDirty,
      closed: (s) => {
        connections.delete(s.id)
        dirty.delete(s)
      }
    }, peer)
    if (readsPaused) session.holdReads(true)
    connections.set(id, session)
  }

  for (const address of options.tcp) {
    yield* listen(formatAddressWithPort(address.host, address.port), (server) => server.listen(address.port, address.host, LISTEN_BACKLOG), (socket) => {
      socket.setNoDelay(true)
      socket.setKeepAlive(true)
      accept(socket, formatAddressWithPort(socket.remoteAddress ?? "?", socket.remotePort ?? 0))
    })
  }
  if (options.unixPath !== undefined) {
    const path = options.unixPath
    removeStale(path)
    yield* listen(path, (server) => server.listen(path, LISTEN_BACKLOG), (socket) => accept(socket, path), () => {
      chmodSync(path, 0o666)
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => removeStale(path)))
  }
  // Like the reference's 100 ms badger (client-protocol §8.6): cut readers stuck too long.
  yield* Effect.acquireRelease(
    Effect.sync(() =>
      setInterval(() => {
        const now = Date.now()
        for (const s of connections.values()) {
          const stalled = s.outbox.stalledFor(now)
          if (stalled > SLOW_READER_GRACE_MS && !s.session.isClosed) cutOff(s, `no progress for ${stalled} ms`)
        }
      }, STALL_CHECK_MS)
    ),
    (timer) => Effect.sync(() => clearInterval(timer))
  )
  // Registered last, so it runs first: sessions end before their listeners close.
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      for (const s of connections.values()) s.shutdown()
    })
  )

  yield* Effect.logInfo(`daemon ${options.daemonName} ready`).pipe(
    Effect.annotateLogs({
      id: `0x${(options.daemonId >>> 0).toString(16)}`,
      incarnation: options.incarnation,
      tcp: options.tcp.map((a) => formatAddressWithPort(a.host, a.port)).join(","),
      unix: options.unixPath ?? "none",
      udp: `${formatAddressWithPort(udp.local.bindAddress, udp.local.dataPort)}/${udp.local.tokenPort}`
    })
  )
  return { options, connectionCount: () => connections.size, exited: Deferred.await(exit) }
})

/**
 * Bytes a session's socket may hold in user space before deliveries wait in its outbox (and
 * count toward `MaxSessionMessages`). The reference grows SO_SNDBUF to 200 KB for the same
 * slack (client-protocol §2.1); a garbage-collected reader needs a little more to ride out a
 * pause without being taken for a stuck one.
 */
const SOCKET_HIGH_WATER_MARK = 1024 * 1024

/**
 * Pending connections the kernel queues for us. The reference uses 25 (TCP) and 5 (Unix), so a
 * burst of clients connecting at once waits for SYN retransmissions; we accept as fast as they come.
 */
const LISTEN_BACKLOG = 511

/** How often congested sessions are checked against {@link SLOW_READER_GRACE_MS}. */
const STALL_CHECK_MS = 100

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0")

/** Opens a listener for the life of the scope. */
const listen = (
  address: string,
  start: (server: Server) => void,
  onConnection: (socket: Socket) => void,
  afterListen: () => void = () => {}
) =>
  Effect.acquireRelease(
    Effect.callback<Server, ListenError>((resume) => {
      const server = createServer({ noDelay: true, highWaterMark: SOCKET_HIGH_WATER_MARK }, onConnection)
      server.once("error", (e) => resume(Effect.fail(new ListenError({ address, reason: e.message }))))
      server.once("listening", () => {
        afterListen()
        resume(Effect.succeed(server))
      })
      start(server)
    }),
    (server) => Effect.callback<void>((resume) => void server.close(() => resume(Effect.void)))
  )

const removeStale = (path: string): void => {
  try {
    unlinkSync(path)
  } catch {
    // Nothing to remove.
  }
}
