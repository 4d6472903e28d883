/**
 * One connection to a daemon over a Node socket: the thin shell around the protocol codecs.
 *
 * - Connect: opens the socket and drives {@link ClientHandshake}.
 * - Receive: every socket read lands in one reused buffer (Node's `onread`, see
 *   {@link openSocket}); a copy of what it brought is framed into complete messages with a
 *   {@link ByteQueue}, and the batch goes to the inbox queue with one `offerAllUnsafe` (no fiber
 *   or Effect per message). When the reader falls behind, the socket is paused, so memory stays
 *   bounded and TCP pushes back on the daemon (client-protocol §8.6).
 * - Send: messages are encoded straight into a write buffer that goes out with one
 *   `socket.write` per event-loop turn (or sooner when it fills), so a burst of multicasts costs
 *   one syscall; written buffers are reused, so a flood touches no fresh memory.
 * - Disconnect: `KILL_MESS`, then FIN, then wait (briefly) for the daemon to close (§5.2, §8.7).
 */
import * as net from "node:net"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import {
  ByteQueue,
  clientMessageLength,
  type DaemonAddress,
  type DaemonMessage,
  daemonMessageLength,
  decodeDaemonMessage,
  describeDaemonAddress,
  encodeClientMessage,
  encodeClientMessageInto,
  encodeKill,
  HEADER_LENGTH,
  type OutgoingMessage,
  ProtocolError,
  readHeader,
  type Version
} from "../Protocol/index.js"
import {
  type ConnectError,
  ConnectionClosed,
  CouldNotConnect,
  IllegalMessage,
  IllegalSession,
  IllegalSpread,
  NetErrorOnSession,
  type ReceiveError,
  type SessionError
} from "./Errors.js"
import { ClientHandshake } from "./Handshake.js"
import type { ConnectPlan } from "./Options.js"

/** The inbox: decoded messages; it fails with the receive error, or ends at disconnect. */
export type Inbox = Queue.Queue<DaemonMessage, ReceiveError | Cause.Done>

/**
 * Limits, with their reasons.
 * - Inbox: pause reading at this many undelivered messages and resume below the low mark.
 *   Reference daemons cut a client off at 1000 queued messages on their side (§8.6), so a
 *   reader that stays paused long enough is disconnected, exactly as a C client that stops
 *   calling `SP_receive`.
 * - Largest daemon message we accept: any real one is far below (a body ≤ 144000 bytes plus a
 *   member list of at most a few thousand 32-byte names); a bigger length is a broken stream.
 * - Write buffer: messages are encoded into buffers of this size; a full one is written at
 *   once, without waiting for the turn. A larger message is written on its own. At most
 *   `SPARE_WRITE_BUFFERS` written buffers are kept for reuse.
 * - Send backpressure: multicasts wait for `drain` while Node holds more than this unsent.
 * - Linger: how long a disconnect waits for the daemon's close before destroying the socket.
 */
const INBOX_HIGH_WATER = 32_768
const INBOX_LOW_WATER = 8_192
const MAX_DAEMON_MESSAGE = 16 * 1024 * 1024
const WRITE_BUFFER_BYTES = 128 * 1024
const SPARE_WRITE_BUFFERS = 4
const SEND_HIGH_WATER = 8 * 1024 * 1024
/** Resumed entries are cut off the front of the waiting queue once this many piled up. */
const WAITING_COMPACT_AFTER = 1024
const DISCONNECT_LINGER_MS = 2_000

/** A message to send: encoded on the way out, or already bytes (join, leave, kill). */
type Outgoing = OutgoingMessage | Buffer

const lengthOf = (o: Outgoing): number => (Buffer.isBuffer(o) ? o.length : clientMessageLength(o))

interface Waiting {
  /** Encoded when the caller started waiting: the caller may reuse its payload at once. */
  readonly bytes: Buffer
  readonly resume: (effect: Effect.Effect<void, SessionError>) => void
}

type State =
  | { readonly _tag: "Open" }
  /** The socket failed; `reported` once the error has been returned by a send. */
  | { readonly _tag: "Failed"; readonly error: ReceiveError; reported: boolean }
  | { readonly _tag: "Closed" }

/** Where the reads of a socket go: the handshake's handler first, then the session's. */
interface ReadTarget {
  current: ((chunk: Buffer) => void) | undefined
}

export class Session {
  private state: State = { _tag: "Open" }
  /** Length of the message whose header has been read, or 0 (§7.1 step 1). */
  private need = 0
  private paused = false
  /** The write buffer being filled (bytes `0 … written`), and written ones ready for reuse. */
  private out: Buffer | undefined
  private written = 0
  private readonly spare: Array<Buffer> = []
  private flushScheduled = false
  /**
   * Callers waiting for the socket to drain, in call order, from `waitingHead` on. An entry
   * leaves (the head moves) before its caller is resumed: a resumed caller may run on at once,
   * even into `disconnect`, which sends whatever still waits — an entry still in the queue then
   * would go out twice.
   */
  private waiting: Array<Waiting> = []
  private waitingHead = 0

  constructor(
    private readonly socket: net.Socket,
    reads: ReadTarget,
    private readonly received: ByteQueue,
    readonly inbox: Inbox,
    /** `#<private name>#<daemon name>` as the daemon accepted us. */
    readonly privateGroup: string,
    readonly daemonVersion: Version
  ) {
    reads.current = this.onData
    socket.on("end", this.onEnd)
    socket.on("close", this.onEnd)
    socket.on("error", this.onError)
    socket.on("drain", this.onDrain)
    // Bytes that came in the same read as the accept.
    this.frame()
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  private readonly onData = (chunk: Buffer): void => {
    if (this.state._tag !== "Open") return
    this.received.push(chunk)
    this.frame()
  }

  private frame(): void {
    const received = this.received
    let messages: Array<DaemonMessage> | undefined
    try {
      while (received.length >= HEADER_LENGTH) {
        if (this.need === 0) {
          const length = daemonMessageLength(readHeader(received.peek(HEADER_LENGTH)))
          if (length > MAX_DAEMON_MESSAGE) throw new ProtocolError({ reason: `a message of ${length} bytes` })
          this.need = length
        }
        if (received.length < this.need) break
        const message = decodeDaemonMessage(received.take(this.need), this.privateGroup)
        this.need = 0
        if (messages === undefined) messages = [message]
        else messages.push(message)
      }
    } catch (e) {
      // Whatever the decoder trips over, the stream is out of sync: fatal (§12 item 7).
      if (messages !== undefined) Queue.offerAllUnsafe(this.inbox, messages)
      return this.fail(new IllegalMessage({ reason: e instanceof ProtocolError ? e.reason : String(e) }))
    }
    if (messages === undefined) return
    Queue.offerAllUnsafe(this.inbox, messages)
    if (!this.paused && Queue.sizeUnsafe(this.inbox) >= INBOX_HIGH_WATER) {
      this.paused = true
      this.socket.pause()
    }
  }

  /** Called by the stream after each chunk it took from the inbox. */
  readonly afterTake = (): void => {
    if (this.paused && this.state._tag === "Open" && Queue.sizeUnsafe(this.inbox) <= INBOX_LOW_WATER) {
      this.paused = false
      this.socket.resume()
    }
  }

  private readonly onEnd = (): void => {
    this.fail(new ConnectionClosed({ reason: "the daemon closed the connection" }))
  }

  private readonly onError = (error: Error): void => {
    this.fail(new ConnectionClosed({ reason: `socket error: ${error.message}` }))
  }

  /** The session is over: deliver what was received, then the error. */
  private fail(error: ReceiveError): void {
    if (this.state._tag !== "Open") return
    this.state = { _tag: "Failed", error, reported: false }
    this.out = undefined
    this.written = 0
    Queue.failCauseUnsafe(this.inbox, Cause.fail(error))
    this.socket.destroy()
    this.releaseWaiting()
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  /** Why nothing can be sent, or undefined when the session is open. */
  private unusable(): SessionError | undefined {
    switch (this.state._tag) {
      case "Open":
        return undefined
      case "Closed":
        return new IllegalSession({ reason: "the session was disconnected" })
      case "Failed": {
        // C returns CONNECTION_CLOSED once, then NET_ERROR_ON_SESSION (§9).
        if (this.state.reported) return new NetErrorOnSession({ reason: `the session failed earlier: ${this.state.error.reason}` })
        this.state.reported = true
        return new ConnectionClosed({ reason: this.state.error.reason })
      }
    }
  }

  /**
   * Sends `message` in call order. While Node holds more than {@link SEND_HIGH_WATER} unsent
   * bytes, callers wait (suspended fibers, in order) and are written out as the socket drains.
   */
  sendInOrder(message: Outgoing): Effect.Effect<void, SessionError> {
    if (this.waitingCount() === 0 && !this.congested()) return this.send(message)
    const bytes = Buffer.isBuffer(message) ? message : encodeClientMessage(message)
    return Effect.callback<void, SessionError>((resume) => {
      if (this.waitingCount() === 0 && !this.congested()) return resume(this.send(bytes))
      const entry: Waiting = { bytes, resume }
      this.waiting.push(entry)
      return Effect.sync(() => {
        const i = this.waiting.indexOf(entry, this.waitingHead)
        if (i >= 0) this.waiting.splice(i, 1)
      })
    })
  }

  /** Encodes `message` into the write buffer, written at the end of this turn (or when full). */
  private send(message: Outgoing): Exit.Exit<void, SessionError> {
    const error = this.unusable()
    if (error !== undefined) return Exit.fail(error)
    this.append(message)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.scheduledFlush)
    }
    return Exit.void
  }

  /** Puts `message` behind everything appended before it. */
  private append(message: Outgoing): void {
    const length = lengthOf(message)
    if (this.out !== undefined && this.written + length > this.out.length) this.flush()
    if (length > WRITE_BUFFER_BYTES) {
      this.write(Buffer.isBuffer(message) ? message : encodeClientMessage(message))
      return
    }
    const out = (this.out ??= this.spare.pop() ?? Buffer.allocUnsafeSlow(WRITE_BUFFER_BYTES))
    if (Buffer.isBuffer(message)) message.copy(out, this.written)
    else encodeClientMessageInto(out, this.written, message)
    this.written += length
  }

  private congested(): boolean {
    return this.socket.writableLength >= SEND_HIGH_WATER
  }

  private waitingCount(): number {
    return this.waiting.length - this.waitingHead
  }

  /** Empties the queue, returning who was still in it. */
  private takeWaiting(): Array<Waiting> {
    const rest = this.waiting.slice(this.waitingHead)
    this.waiting = []
    this.waitingHead = 0
    return rest
  }

  private readonly onDrain = (): void => {
    while (this.waitingHead < this.waiting.length && !this.congested()) {
      const { bytes, resume } = this.waiting[this.waitingHead++]!
      resume(this.send(bytes))
    }
    if (this.waitingHead >= WAITING_COMPACT_AFTER && this.waitingHead * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead)
      this.waitingHead = 0
    }
  }

  /** The session ended: every waiting caller gets the session's error. */
  private releaseWaiting(): void {
    for (const { resume } of this.takeWaiting()) resume(Exit.fail(this.unusable()!))
  }

  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  /** Writes what the write buffer holds; the buffer is reused once the socket is done with it. */
  private flush(): void {
    const out = this.out
    if (out === undefined || this.written === 0) return
    const bytes = out.subarray(0, this.written)
    this.out = undefined
    this.written = 0
    if (this.state._tag !== "Open") return
    this.socket.write(bytes, () => {
      if (this.spare.length < SPARE_WRITE_BUFFERS) this.spare.push(out)
    })
  }

  /** A message too large for a write buffer, after everything before it. */
  private write(bytes: Buffer): void {
    if (this.state._tag === "Open") this.socket.write(bytes)
  }

  // -------------------------------------------------------------------------------------------
  // Disconnecting

  /** `SP_disconnect`: send `KILL_MESS`, close, and wait for the daemon's close (bounded). */
  readonly disconnect: Effect.Effect<void> = Effect.callback<void>((resume) => {
    const socket = this.socket
    const wasOpen = this.state._tag === "Open"
    // Callers still waiting for the socket go out before the kill, whatever the buffer holds.
    for (const entry of this.takeWaiting()) entry.resume(this.send(entry.bytes))
    if (!wasOpen || socket.destroyed) {
      this.state = { _tag: "Closed" }
      Queue.endUnsafe(this.inbox)
      socket.destroy()
      return resume(Effect.void)
    }
    // What is still buffered goes first, then the kill, then our FIN.
    this.append(encodeKill(this.privateGroup))
    const last = this.out!.subarray(0, this.written) // a kill always fits a write buffer
    this.out = undefined
    this.written = 0
    this.state = { _tag: "Closed" }
    Queue.endUnsafe(this.inbox)
    socket.end(last)
    // Keep reading until the daemon closes, so its last messages do not make our close a reset
    // and so its name is free when we return (5.0.1 closes after the kill went through, §8.7).
    socket.resume()
    const timer = setTimeout(() => socket.destroy(), DISCONNECT_LINGER_MS)
    socket.once("close", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Connecting

/** The one buffer each session's socket reads into (reads of up to this many bytes). */
const READ_BUFFER_BYTES = 256 * 1024

/**
 * Opens the socket with Node's `onread`: each read lands in one reused buffer and `reads`
 * gets a copy of what it brought. This skips the stream machinery of `data` events and Node's
 * fresh 64 KiB buffer per read: a 10 KB receive flood costs the client 13 % less CPU (measured,
 * copy included). `pause`/`resume` work as on any socket.
 */
const openSocket = (address: DaemonAddress, reads: ReadTarget): net.Socket => {
  const onread = {
    buffer: Buffer.allocUnsafeSlow(READ_BUFFER_BYTES),
    callback: (bytes: number, buffer: Uint8Array): boolean => {
      reads.current?.(Buffer.copyBytesFrom(buffer, 0, bytes))
      return true // keep reading: pausing is `afterTake`'s business
    }
  }
  return address._tag === "Tcp"
    ? net.createConnection({ host: address.host, port: address.port, onread })
    : net.createConnection({ path: address.path, onread })
}

/** Resolver errors that mean "no such host" (§2.2: `ILLEGAL_SPREAD`). */
const UNKNOWN_HOST = new Set(["ENOTFOUND", "EAI_NONAME"])

/** Opens the socket and runs the handshake; the inbox receives from the moment of the accept. */
export const connectSession = (plan: ConnectPlan, inbox: Inbox): Effect.Effect<Session, ConnectError> =>
  Effect.callback<Session, ConnectError>((resume) => {
    const reads: ReadTarget = { current: undefined }
    const socket = openSocket(plan.address, reads)
    const handshake = new ClientHandshake(plan)
    const received = new ByteQueue()
    let connected = false
    let settled = false

    const settle = (effect: Effect.Effect<Session, ConnectError>) => {
      if (settled) return
      settled = true
      socket.off("connect", onConnect)
      if (reads.current === onData) reads.current = undefined
      socket.off("error", onError)
      socket.off("close", onClose)
      resume(effect)
    }
    const failWith = (error: ConnectError) => {
      socket.destroy()
      settle(Effect.fail(error))
    }
    const onConnect = () => {
      connected = true
      if (plan.address._tag === "Tcp") {
        socket.setNoDelay(true)
        socket.setKeepAlive(true)
      }
      socket.write(handshake.start())
    }
    const onData = (chunk: Buffer) => {
      received.push(chunk)
      const step = handshake.receive(received)
      switch (step._tag) {
        case "Continue":
          if (step.write !== undefined) socket.write(step.write)
          return
        case "Failed":
          return failWith(step.error)
        case "Accepted": {
          const session = new Session(socket, reads, received, inbox, step.privateGroup, step.daemonVersion)
          return settle(Effect.succeed(session))
        }
      }
    }
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = `${describeDaemonAddress(plan.address)}: ${error.message}`
      if (connected) return failWith(new ConnectionClosed({ reason }))
      if (error.code !== undefined && UNKNOWN_HOST.has(error.code)) return failWith(new IllegalSpread({ reason }))
      return failWith(new CouldNotConnect({ reason }))
    }
    const onClose = () => {
      const step = handshake.closed()
      if (step._tag === "Failed") failWith(step.error)
    }
    socket.once("connect", onConnect)
    reads.current = onData
    socket.on("error", onError)
    socket.on("close", onClose)
    // Interrupted (by the timeout or the caller): drop the half-open connection.
    return Effect.sync(() => {
      if (!settled) {
        settled = true
        socket.destroy()
      }
    })
  })
