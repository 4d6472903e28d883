/**
 * An append-only queue of received chunks from which whole messages are cut. Socket reads
 * arrive in arbitrary pieces (client-protocol §5.3 reading model); this joins them only when a
 * message straddles chunks, so the common case of whole messages in one read copies nothing.
 */
export class ByteQueue {
  private chunks: Array<Buffer> = []
  private head = 0
  /** Bytes not yet taken. */
  length = 0

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.length += chunk.length
  }

  /**
   * The first `n` bytes as one contiguous view (joining chunks if needed), without consuming them.
   * The caller guarantees `0 <= n <= length` (anything else is a programming error: RangeError).
   */
  peek(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0)
    if (!(n > 0 && n <= this.length)) throw new RangeError(`ByteQueue: cannot peek ${n} of ${this.length} bytes`)
    const first = this.chunks[0]!
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n)
    this.coalesce(n)
    return this.chunks[0]!.subarray(0, n)
  }

  /** Removes and returns the first `n` bytes (`n <= length`). */
  take(n: number): Buffer {
    const out = this.peek(n)
    this.skip(n)
    return out
  }

  /** Everything not yet taken, as one buffer. */
  takeAll(): Buffer {
    return this.length === 0 ? Buffer.alloc(0) : this.take(this.length)
  }

  private skip(n: number): void {
    this.length -= n
    while (n > 0) {
      const first = this.chunks[0]!
      const left = first.length - this.head
      if (n < left) {
        this.head += n
        return
      }
      n -= left
      this.chunks.shift()
      this.head = 0
    }
  }

  /**
   * Makes the first chunk hold exactly the next `n` bytes, copying only those: the rest of the
   * last chunk touched stays where it is (a message straddling two 64 KiB reads costs its own
   * size, not the reads'). One `splice` for any number of chunks, so a message that arrived in
   * many tiny reads (a hostile client can send one byte per segment) costs linear time.
   */
  private coalesce(n: number): void {
    const joined = Buffer.allocUnsafe(n)
    let copied = 0
    let count = 0
    let head = this.head
    while (copied < n) {
      const chunk = this.chunks[count]!
      const take = Math.min(chunk.length - head, n - copied)
      chunk.copy(joined, copied, head, head + take)
      copied += take
      if (head + take === chunk.length) {
        count++
        head = 0
      } else head += take
    }
    if (head > 0) this.chunks[count] = this.chunks[count]!.subarray(head)
    this.chunks.splice(0, count, joined)
    this.head = 0
  }
}
