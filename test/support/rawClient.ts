/**
 * A raw socket peer for integration tests: writes exact bytes and waits for exact amounts of
 * received bytes, EOF or silence. Nothing of our client library is used, so tests of the
 * daemon do not depend on it.
 */
import { createConnection, type Socket } from "node:net"
import { ByteQueue } from "../../src/Protocol/index.ts"

export class RawClient {
  private readonly received = new ByteQueue()
  private total = 0
  private ended = false
  private waiters: Array<() => void> = []

  private constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.received.push(d)
      this.total += d.length
      this.wake()
    })
    socket.on("close", () => {
      this.ended = true
      this.wake()
    })
    socket.on("error", () => {})
  }

  static connect(target: { readonly port: number } | { readonly path: string }): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = "path" in target ? createConnection(target.path) : createConnection({ port: target.port, host: "127.0.0.1" })
      socket.once("connect", () => resolve(new RawClient(socket)))
      socket.once("error", reject)
    })
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  private until(ready: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)
      const check = (): void => {
        if (ready()) {
          clearTimeout(timer)
          resolve()
        } else this.waiters.push(check)
      }
      check()
    })
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** Bytes received and not yet read. */
  get available(): number {
    return this.received.length
  }

  get isEnded(): boolean {
    return this.ended
  }

  /** The next `n` bytes, waiting for them. */
  async read(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.until(() => this.available >= n || this.ended, timeoutMs, `${n} bytes`)
    if (this.available < n) throw new Error(`connection ended with ${this.available} of ${n} bytes`)
    return this.received.take(n)
  }

  /** One whole daemon → client message (header, optional reject word, groups, body). */
  async readMessage(timeoutMs = 5000): Promise<Buffer> {
    const head = await this.read(48, timeoutMs)
    const type = head.readUInt32LE(0)
    const reject = (type & 0x00400000) !== 0 ? 4 : 0
    const rest = reject + 32 * head.readInt32LE(36) + head.readInt32LE(44)
    return Buffer.concat([head, await this.read(rest, timeoutMs)])
  }

  /** Resolves when the daemon has closed the connection and every byte was read. */
  async eof(timeoutMs = 5000): Promise<void> {
    await this.until(() => this.ended, timeoutMs, "EOF")
    if (this.available > 0) throw new Error(`${this.available} unread bytes before EOF`)
  }

  /** Nothing arrives for `ms`. */
  async silence(ms: number): Promise<void> {
    const before = this.total
    await new Promise((r) => setTimeout(r, ms))
    if (this.total !== before) throw new Error(`expected silence, got ${this.total - before} bytes`)
  }

  close(): void {
    this.socket.destroy()
  }
}
