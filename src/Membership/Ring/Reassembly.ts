/**
 * Reassembly of fragmented messages (`reasm[originator]`, daemon-protocol §5.8): one partial
 * message per originator, fed in seq order.
 */
import type { DataChunk } from "../../Protocol/Ring/DataPacket.js"

interface Partial {
  readonly serial: number
  readonly fragCount: number
  next: number
  readonly parts: Array<Buffer>
}

export type ReassemblyResult =
  | { readonly _tag: "complete"; readonly envelope: Buffer }
  | { readonly _tag: "partial" }
  /** §5.8: a fragment that does not continue the partial message; the partial message is dropped. */
  | { readonly _tag: "violation"; readonly what: string }

const PARTIAL: ReassemblyResult = { _tag: "partial" }

export class Reassembly {
  private readonly partial = new Map<number, Partial>()

  /** @param maxFragments bound of `fragCount` (§11.7: ≤ MaxMessageSize per originator) */
  constructor(private readonly maxFragments: number) {}

  add(originatorId: number, c: DataChunk): ReassemblyResult {
    if (c.fragCount === 1) {
      if (this.partial.has(originatorId)) {
        this.partial.delete(originatorId)
        return { _tag: "violation", what: "whole message inside a partial one" }
      }
      return { _tag: "complete", envelope: c.data }
    }
    if (c.fragCount > this.maxFragments) return { _tag: "violation", what: "message exceeds MaxMessageSize" }
    let p = this.partial.get(originatorId)
    if (c.fragIndex === 0) {
      const hadPartial = p !== undefined
      p = { serial: c.msgSerial, fragCount: c.fragCount, next: 0, parts: [] }
      this.partial.set(originatorId, p)
      if (hadPartial) {
        p.parts.push(c.data)
        p.next = 1
        return { _tag: "violation", what: "new message before the partial one ended" }
      }
    } else if (p === undefined || p.serial !== c.msgSerial || p.fragCount !== c.fragCount || p.next !== c.fragIndex) {
      this.partial.delete(originatorId)
      return { _tag: "violation", what: "fragment does not continue the partial message" }
    }
    p.parts.push(c.data)
    p.next++
    if (p.next < p.fragCount) return PARTIAL
    this.partial.delete(originatorId)
    return { _tag: "complete", envelope: Buffer.concat(p.parts) }
  }

  /** §6.8 step 5: forget the partial messages of every originator. */
  clear(): void {
    this.partial.clear()
  }

  get size(): number {
    return this.partial.size
  }
}
