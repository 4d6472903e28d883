/**
 * `DATA` (daemon-protocol §4.3): a 40-byte fixed part, then 1…255 chunks of
 * (16-byte chunk header + fragment bytes), with the packing rules of §4.3 checked on decode.
 */
import { HEADER_LENGTH, type HeaderStamp, PacketType, finishDatagram, writeHeader } from "./Header.js"
import { type RingId, readRingId, writeRingId } from "./RingId.js"
import { malformed, type Reader } from "./Wire.js"

export const DATA_FIXED_LENGTH = 40
export const CHUNK_HEADER_LENGTH = 16
/** §4.3: `chunkCount` is a u8, so a packet holds at most 255 chunks. */
export const MAX_CHUNKS = 255
/** §4.3: `len` is a u16. */
export const MAX_CHUNK_LENGTH = 0xffff

/** §4.3 `class` byte; the delivery classes of §5.8. */
export const ClassCode = { RELIABLE: 1, ORDERED: 2, SAFE: 3 } as const
export type ClassCode = 1 | 2 | 3

export interface DataChunk {
  /** §2.4: low 32 bits of the originator's message counter. */
  readonly msgSerial: number
  readonly fragIndex: number
  readonly fragCount: number
  /** Fragment bytes (a view into the datagram when decoded). */
  readonly data: Buffer
}

export interface DataPacket {
  readonly ringId: RingId
  readonly seq: number
  readonly originatorId: number
  readonly originatorIncarnation: number
  /** §5.10: the token hop during which the originator created the packet. */
  readonly hop: number
  readonly cls: ClassCode
  readonly chunks: ReadonlyArray<DataChunk>
}

/** Offsets of the DATA fixed part inside the datagram (used by the engine's fast paths). */
export const DATA_OFF_SEQ = HEADER_LENGTH + 12
export const DATA_OFF_HOP = HEADER_LENGTH + 28

export const isWholeMessage = (c: DataChunk): boolean => c.fragIndex === 0 && c.fragCount === 1

/** Datagram size of a packet with these chunks. */
export const dataPacketSize = (chunks: ReadonlyArray<{ readonly data: Uint8Array }>): number => {
  let n = HEADER_LENGTH + DATA_FIXED_LENGTH
  for (const c of chunks) n += CHUNK_HEADER_LENGTH + c.data.length
  return n
}

export const encodeDataPacket = (stamp: HeaderStamp, p: DataPacket, extraFlags = 0): Buffer => {
  if (p.chunks.length < 1 || p.chunks.length > MAX_CHUNKS) throw new RangeError("DATA: 1…255 chunks")
  const buf = Buffer.allocUnsafe(dataPacketSize(p.chunks))
  const w = writeHeader(buf, PacketType.DATA, stamp, extraFlags)
  writeRingId(w, p.ringId)
  w.u64(p.seq)
  w.u32(p.originatorId)
  w.u32(p.originatorIncarnation)
  w.u64(p.hop)
  w.u8(p.cls)
  w.u8(p.chunks.length)
  w.u16(0)
  for (const c of p.chunks) {
    if (c.data.length > MAX_CHUNK_LENGTH) throw new RangeError("DATA: chunk longer than 65535")
    w.u32(c.msgSerial)
    w.u32(c.fragIndex)
    w.u32(c.fragCount)
    w.u16(c.data.length)
    w.u16(0)
    w.bytes(c.data)
  }
  return finishDatagram(buf)
}

export const decodeDataBody = (r: Reader): DataPacket => {
  const ringId = readRingId(r)
  const seq = r.u64("seq")
  if (seq < 1) malformed("DATA seq 0")
  const originatorId = r.u32()
  const originatorIncarnation = r.u32()
  const hop = r.u64("hop")
  const cls = r.u8("class")
  if (cls < 1 || cls > 3) malformed(`DATA class ${cls}`)
  const chunkCount = r.u8("chunkCount")
  if (chunkCount < 1) malformed("DATA without chunks")
  r.skip(2)
  const chunks = new Array<DataChunk>(chunkCount)
  for (let i = 0; i < chunkCount; i++) {
    const msgSerial = r.u32("msgSerial")
    const fragIndex = r.u32("fragIndex")
    const fragCount = r.u32("fragCount")
    const len = r.u16("len")
    r.skip(2)
    const data = r.bytes(len, "chunk data")
    if (fragCount < 1 || fragIndex >= fragCount) malformed("DATA fragment index out of range")
    // §4.3 packing rules 2 and 3.
    if (i > 0 && (fragIndex !== 0 || fragCount !== 1)) malformed("DATA: a later chunk is not a whole message")
    if (i === 0 && chunkCount > 1 && fragIndex !== fragCount - 1) {
      malformed("DATA: a non-final fragment shares its packet")
    }
    chunks[i] = { msgSerial, fragIndex, fragCount, data }
  }
  r.done("DATA")
  return { ringId, seq, originatorId, originatorIncarnation, hop, cls: cls as ClassCode, chunks }
}
