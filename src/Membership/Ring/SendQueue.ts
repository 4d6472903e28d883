/**
 * The send queue (`sendQueue`, daemon-protocol §5.1) and the packing of messages into DATA
 * packets (§4.3 packing rules, cf. Spread protocol.c `Send_new_packets`).
 */
import { CHUNK_HEADER_LENGTH, type ClassCode, type DataChunk, MAX_CHUNKS } from "../../Protocol/Ring/DataPacket.js"

/**
 * Fragment size on a ring of one. Its packets never reach the network (nobody else holds its
 * ring, so nobody asks for them, §6.7), so a message needs no MTU-sized fragments, and a whole
 * one skips reassembly. Small messages still pack by MaxPacketSize: packing a lone ring's
 * packets fuller made its deliveries burstier and the one-process flood slower. Decision: still
 * bounded so that such a packet, if ever encoded, is one valid datagram (u16 chunk length, §4.3;
 * 64 KiB UDP payload).
 */
export const LONE_FRAGMENT_LENGTH = 60 * 1024

/** A message accepted for sending, with its fragment cursor. */
export interface PendingMessage {
  /** Full per-incarnation counter (§2.4); the wire carries the low 32 bits. */
  readonly serial: number
  /** The envelope, or a stand-in of its length until `encode` is called (see `Submit.encode`). */
  envelope: Buffer
  encode: (() => Buffer) | undefined
  readonly cls: ClassCode
  /** Fragment length and count, fixed when the first fragment is sequenced (0: not yet). */
  fragLength: number
  fragCount: number
  /** Next fragment to sequence. */
  nextFrag: number
}

export interface BuiltPacket {
  readonly cls: ClassCode
  readonly chunks: Array<DataChunk>
  /** Messages whose last fragment is in this packet (they are now *sent*, evs-properties §1.2). */
  readonly completed: Array<PendingMessage>
}

/** Compact the backing array once this many entries were consumed at its head. */
const COMPACT_AFTER = 1024

export class SendQueue {
  private items: Array<PendingMessage> = []
  private head = 0
  /** Bytes not yet sequenced (for the backlog estimate of §5.9). */
  private pendingBytes = 0

  /**
   * @param maxFragment fragment payload per packet (§4.3, 1392 by default)
   * @param packetRoom bytes for chunks (header + data) in one packet
   */
  constructor(private readonly maxFragment: number, private readonly packetRoom: number) {}

  get length(): number {
    return this.items.length - this.head
  }

  push(serial: number, envelope: Buffer, cls: ClassCode, encode?: () => Buffer): void {
    this.items.push({ serial, envelope, encode, cls, fragLength: 0, fragCount: 0, nextFrag: 0 })
    this.pendingBytes += envelope.length
  }

  /** §5.9 `myBacklog`: packets needed to drain the queue (an estimate, ≥ 1 when non-empty). */
  backlogPackets(): number {
    const n = this.length
    if (n === 0) return 0
    return Math.max(1, Math.ceil((this.pendingBytes + CHUNK_HEADER_LENGTH * n) / this.packetRoom))
  }

  /**
   * §6.8 step 5: a partly sent local message restarts from fragment 0 in the new ring.
   * Messages already completely sequenced are no longer in the queue.
   */
  restartPartial(): void {
    const m = this.items[this.head]
    if (m !== undefined && m.nextFrag > 0) {
      for (let i = 0; i < m.nextFrag; i++) this.pendingBytes += this.fragment(m, i).length
      m.nextFrag = 0
      m.fragCount = 0
    }
  }

  private fragment(m: PendingMessage, i: number): Buffer {
    const start = i * m.fragLength
    return m.envelope.subarray(start, Math.min(m.envelope.length, start + m.fragLength))
  }

  /** Fixes how `m` is cut, if its first fragment is still to come; returns its fragment count. */
  private cut(m: PendingMessage, lone: boolean): number {
    if (m.nextFrag === 0) {
      // Other daemons will read these bytes: make them real (a lone ring may go on with the stand-in).
      if (!lone && m.encode !== undefined) {
        m.envelope = m.encode()
        m.encode = undefined
      }
      m.fragLength = lone ? LONE_FRAGMENT_LENGTH : this.maxFragment
      m.fragCount = Math.max(1, Math.ceil(m.envelope.length / m.fragLength))
    }
    return m.fragCount
  }

  private pop(): void {
    this.items[this.head] = undefined as unknown as PendingMessage
    this.head++
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }

  /**
   * Builds the next packet from the head of the queue (§4.3 rules 1–6). Undefined if empty.
   * `lone`: the ring has one member (see {@link LONE_FRAGMENT_LENGTH}).
   */
  nextPacket(lone = false): BuiltPacket | undefined {
    const first = this.items[this.head]
    if (first === undefined) return undefined
    this.cut(first, lone)
    const frag = this.fragment(first, first.nextFrag)
    const chunk0: DataChunk = { msgSerial: first.serial >>> 0, fragIndex: first.nextFrag, fragCount: first.fragCount, data: frag }
    this.pendingBytes -= frag.length
    first.nextFrag++
    if (first.nextFrag < first.fragCount) {
      // Rule 3: a non-final fragment is the only chunk.
      return { cls: first.cls, chunks: [chunk0], completed: [] }
    }
    this.pop()
    const chunks = [chunk0]
    const completed = [first]
    let room = this.packetRoom - CHUNK_HEADER_LENGTH - frag.length
    // Rules 1, 2, 5: whole messages of the same class that fit whole, in queue order.
    while (chunks.length < MAX_CHUNKS) {
      const m = this.items[this.head]
      if (m === undefined || m.cls !== first.cls || this.cut(m, lone) !== 1) break
      if (CHUNK_HEADER_LENGTH + m.envelope.length > room) break
      chunks.push({ msgSerial: m.serial >>> 0, fragIndex: 0, fragCount: 1, data: m.envelope })
      completed.push(m)
      room -= CHUNK_HEADER_LENGTH + m.envelope.length
      this.pendingBytes -= m.envelope.length
      m.nextFrag = 1
      this.pop()
    }
    return { cls: first.cls, chunks, completed }
  }
}
