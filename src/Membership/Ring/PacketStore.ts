/**
 * `buf` (daemon-protocol §5.1): the packets of one ring with seq in `(discarded, highSeq]`,
 * in a fixed array of `MaxSeqGap + 2 × Window` slots indexed by seq modulo capacity (§5.11).
 */
import type { DataPacket } from "../../Protocol/Ring/DataPacket.js"

export interface StoredPacket {
  readonly seq: number
  /**
   * The datagram as received or sent (retransmitted from these bytes, §5.6). Undefined for a
   * packet of a ring of one, which nobody can ask for: it is encoded only if ever needed.
   */
  readonly bytes: Buffer | undefined
  readonly packet: DataPacket
  /** §5.2 step 7: delivered early as a reliable packet. */
  deliveredEarly: boolean
}

export class PacketStore {
  private readonly slots: Array<StoredPacket | undefined>
  private count = 0

  constructor(readonly capacity: number) {
    this.slots = new Array<StoredPacket | undefined>(capacity).fill(undefined)
  }

  get size(): number {
    return this.count
  }

  get(seq: number): StoredPacket | undefined {
    const p = this.slots[seq % this.capacity]
    return p !== undefined && p.seq === seq ? p : undefined
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined
  }

  /** The caller guarantees `seq ∈ (discarded, discarded + capacity]` (§5.2 step 5). */
  put(p: StoredPacket): void {
    const i = p.seq % this.capacity
    const old = this.slots[i]
    if (old !== undefined) throw new Error(`PacketStore: slot of ${p.seq} still holds ${old.seq}`)
    this.slots[i] = p
    this.count++
  }

  delete(seq: number): void {
    const i = seq % this.capacity
    const p = this.slots[i]
    if (p !== undefined && p.seq === seq) {
      this.slots[i] = undefined
      this.count--
    }
  }

  clear(): void {
    this.slots.fill(undefined)
    this.count = 0
  }
}
