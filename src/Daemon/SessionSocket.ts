/**
 * The Node side of one client connection: feeds socket reads to its {@link ClientSession},
 * writes its handshake replies and deliveries, bounds the handshake in time, and closes.
 */
import type { Socket } from "node:net"
import type { DaemonCore } from "../Membership/DaemonCore.js"
import type { AuthPolicy } from "./Auth.js"
import { ClientSession } from "./ClientSession.js"
import { Outbox, type OutboxLimits } from "./Outbox.js"

export interface SessionHooks {
  /** Something happened that the log should say. */
  readonly log: (level: "Info" | "Warn", message: string) => void
  /** Deliveries were queued: flush at the end of this turn. */
  readonly dirty: (s: SessionSocket) => void
  readonly closed: (s: SessionSocket) => void
}

/** How long the whole handshake may take before a silent close (the reference allows ~1 s per phase). */
export const HANDSHAKE_TIMEOUT_MS = 5_000
/** A closed session's socket is destroyed if it has not finished closing by then. */
const CLOSE_GRACE_MS = 2_000

export class SessionSocket {
  readonly session: ClientSession
  readonly outbox: Outbox
  private handshakeTimer: NodeJS.Timeout | undefined
  /** How many congested receivers hold this session's reads back. */
  private holds = 0
  /** The senders this session, while congested, holds back. */
  private readonly held = new Set<SessionSocket>()

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    core: DaemonCore,
    auth: AuthPolicy,
    limits: OutboxLimits,
    private readonly hooks: SessionHooks,
    readonly peer: string
  ) {
    this.outbox = new Outbox(socket, limits)
    this.session = new ClientSession(id, core, auth, {
      write: (bytes) => void socket.write(bytes),
      end: () => this.endSocket(),
      report: (reason) => hooks.log("Info", `session ${id} (${peer}): ${reason}`)
    })
    socket.on("data", (chunk: Buffer) => {
      this.session.receive(chunk)
      if (this.session.isOperational) this.clearHandshakeTimer()
    })
    socket.on("end", () => this.session.end("client closed the connection"))
    socket.on("error", (e) => this.session.end(`socket error: ${e.message}`))
    socket.on("close", () => {
      this.clearHandshakeTimer()
      this.session.end("connection closed")
      hooks.closed(this)
    })
    socket.on("drain", () => this.flush())
    this.handshakeTimer = setTimeout(() => this.session.end("handshake timed out"), HANDSHAKE_TIMEOUT_MS)
  }

  /**
   * A delivery from the core. If this session is congested, its local sender is held back until
   * this session drains or is cut off: end-to-end flow control, so a receiver that is merely
   * slower than a burst is not mistaken for a stuck one (client-protocol §5.3 reading model: the
   * reference likewise stops reading clients while its queues are full).
   */
  deliver(bytes: Buffer, sender: SessionSocket | undefined): void {
    if (sender !== undefined && this.outbox.isCongested) this.holdBack(sender)
    this.outbox.enqueue(bytes)
    this.hooks.dirty(this)
  }

  /** Writes what is queued; once nothing waits any more, lets the held senders read again. */
  flush(): void {
    if (this.outbox.flush()) this.releaseHeld()
  }

  private holdBack(sender: SessionSocket): void {
    if (this.held.has(sender)) return
    this.held.add(sender)
    sender.hold()
  }

  private releaseHeld(): void {
    for (const sender of this.held) sender.release()
    this.held.clear()
  }

  /** The core paused (or resumed) every client's reads: ring back-pressure or a GROUPS exchange. */
  holdReads(paused: boolean): void {
    if (paused) this.hold()
    else this.release()
  }

  private hold(): void {
    if (this.holds++ === 0) this.socket.pause()
  }

  private release(): void {
    if (--this.holds === 0) this.socket.resume()
  }

  /** The core finished this session: discard its output and close the socket. */
  close(): void {
    this.clearHandshakeTimer()
    this.outbox.discard()
    this.releaseHeld()
    this.endSocket()
  }

  /** Ends the socket after what it has buffered, and destroys it if the peer does not finish. */
  private endSocket(): void {
    if (this.socket.writableEnded) return
    this.socket.end()
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
  }

  /** Daemon shutdown: end the session and its socket now. */
  shutdown(): void {
    this.session.end("daemon shutting down")
    this.socket.destroy()
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
  }
}
