/**
 * The daemon as an Effect service: the sans-IO core wired to real client listeners (TCP and the
 * Unix socket, client-protocol §2.1). The Layer owns every resource: closing its scope (SIGINT,
 * SIGTERM) ends every session, closes the listeners and removes the Unix socket file.
 *
 * Hot path: socket reads go straight into plain-TypeScript session code; deliveries are batched
 * per session and flushed once per event-loop turn.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { chmodSync, unlinkSync } from "node:fs"
import { createServer, type Server, type Socket } from "node:net"
import { DaemonCore } from "../Membership/DaemonCore.js"
import { encodeRejectByte, MAX_SESSIONS, REJECT_QUOTA } from "../Protocol/index.js"
import type { AuthPolicy } from "./Auth.js"
import { ListenError } from "./Errors.js"
import { type OutboxLimits, SLOW_READER_GRACE_MS } from "./Outbox.js"
import { SessionSocket } from "./SessionSocket.js"

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
  readonly ringSeqFloor: number
  readonly seed: number
}

export interface DaemonShape {
  readonly options: DaemonOptions
  /** Connections currently open (handshaking or operational). */
  readonly connectionCount: () => number
}

export class SpreadDaemon extends Context.Service<SpreadDaemon, DaemonShape>()("spread/Daemon") {
  static readonly layer = (options: DaemonOptions): Layer.Layer<SpreadDaemon, ListenError> =>
    Layer.effect(SpreadDaemon, make(options))
}

const make = Effect.fnUntraced(function*(options: DaemonOptions) {
  const context = yield* Effect.context<never>()
  const runLog = Effect.runForkWith(context)
  const log = (level: "Info" | "Warn", message: string): void => {
    runLog(level === "Info" ? Effect.logInfo(message) : Effect.logWarning(message))
  }

  const connections = new Map<number, SessionSocket>()
  const dirty = new Set<SessionSocket>()
  const sender: { current: SessionSocket | undefined } = { current: undefined }
  let flushScheduled = false

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

  const core = new DaemonCore(
    { daemonName: options.daemonName, daemonId: options.daemonId, ringSeqFloor: options.ringSeqFloor, seed: options.seed },
    {
      deliver: (id, bytes) => connections.get(id)?.deliver(bytes),
      close: (id) => connections.get(id)?.close()
    }
  )

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
      sender,
      dirty: markDirty,
      closed: (s) => {
        connections.delete(s.id)
        dirty.delete(s)
      }
    }, peer)
    connections.set(id, session)
  }

  for (const address of options.tcp) {
    yield* listen(`${address.host}:${address.port}`, (server) => server.listen(address.port, address.host, LISTEN_BACKLOG), (socket) => {
      socket.setNoDelay(true)
      socket.setKeepAlive(true)
      accept(socket, `${socket.remoteAddress}:${socket.remotePort}`)
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
      tcp: options.tcp.map((a) => `${a.host}:${a.port}`).join(","),
      unix: options.unixPath ?? "none"
    })
  )
  return { options, connectionCount: () => connections.size }
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
