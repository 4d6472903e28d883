/**
 * What a session has yet to write (client-protocol §8.6): deliveries are queued and written in
 * one batch per event-loop turn; while the socket has not drained, they wait here. A reader that
 * lets `maxMessages` messages or `maxBytes` bytes pile up is cut off (daemon-protocol §8.9), and
 * so is one that stays congested for {@link SLOW_READER_GRACE_MS}.
 */
import type { Socket } from "node:net"
import { writeBatch } from "../Protocol/index.js"

export interface OutboxLimits {
  /** `MaxSessionMessages`, default 1000. */
  readonly maxMessages: number
  /** `MaxSessionBytes`, default 64 MiB (daemon-protocol §8.9). */
  readonly maxBytes: number
}

/**
 * How long a congested session (deliveries waiting for its socket to drain) may go without its
 * backlog shrinking at all before it is taken for a stuck reader and cut off. Its senders are
 * held back meanwhile (SessionSocket.deliver).
 */
export const SLOW_READER_GRACE_MS = 2_000

export class Outbox {
  private pending: Array<Buffer> = []
  private pendingBytes = 0
  private closed = false
  /** The limit was exceeded; the owner kills the session at the end of this turn. */
  overflowed = false
  /** The backlog at the last stall check, and when it last shrank. */
  private lastBacklog = 0
  private progressAt = 0

  constructor(private readonly socket: Socket, private readonly limits: OutboxLimits) {}

  get queuedMessages(): number {
    return this.pending.length
  }

  /**
   * Deliveries wait: the socket has not drained what it was given. (What this turn queued is
   * not congestion: it is written at the end of the turn.)
   */
  get isCongested(): boolean {
    return this.socket.writableNeedDrain
  }

  /** Queues one message; false if this made the session overflow. */
  enqueue(bytes: Buffer): boolean {
    if (this.closed || this.overflowed) return !this.overflowed
    // Only messages waiting for a drain count: what this turn queued on an uncongested socket is
    // written at the end of the turn whatever its size.
    const waiting = this.socket.writableNeedDrain
    if (waiting && (this.pending.length >= this.limits.maxMessages || this.pendingBytes + bytes.length > this.limits.maxBytes)) {
      this.overflowed = true
      return false
    }
    this.pending.push(bytes)
    this.pendingBytes += bytes.length
    return true
  }

  /**
   * Hands everything queued to the socket unless it is still draining ('drain' calls again).
   * Returns true when the socket has taken everything without congestion.
   */
  flush(): boolean {
    if (this.closed) return true
    if (this.pending.length > 0 && !this.socket.writableNeedDrain) this.write()
    return !this.socket.writableNeedDrain
  }

  /**
   * How long this session has been congested without its backlog shrinking (0 when it is not
   * congested). A reader that reads, however slowly, keeps resetting it.
   */
  stalledFor(now: number): number {
    if (!this.isCongested) {
      this.lastBacklog = 0
      return 0
    }
    const backlog = this.socket.writableLength + this.pendingBytes
    if (this.lastBacklog === 0 || backlog < this.lastBacklog) this.progressAt = now
    this.lastBacklog = backlog
    return now - this.progressAt
  }

  private write(): void {
    const batch = this.pending
    const bytes = this.pendingBytes
    this.pending = []
    this.pendingBytes = 0
    writeBatch(this.socket, batch, bytes)
  }

  /** Drops whatever is still queued (client-protocol §8.7: a killed session's output is discarded). */
  discard(): void {
    this.closed = true
    this.pending = []
    this.pendingBytes = 0
  }
}
