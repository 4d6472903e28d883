/**
 * Bounds-checked little-endian reader and writer for the daemon ↔ daemon packets
 * (daemon-protocol §0: integers little-endian; `u64` values stay below 2^53 so a `number` holds
 * them exactly). The reader throws only {@link ProtocolError}; `decodeRingPacket` turns that into
 * a typed result, so arbitrary bytes never escape as a `RangeError`.
 */
import { ProtocolError } from "../ProtocolError.js"

/** 2^32, for splitting u64 values. */
const TWO_32 = 0x1_0000_0000
/** Largest high word of a u64 below 2^53 (daemon-protocol §0). */
const MAX_HIGH_WORD = 0x1f_ffff

export const malformed = (reason: string): never => {
  throw new ProtocolError({ reason })
}

export class Reader {
  pos: number
  constructor(readonly buf: Buffer, start: number, readonly end: number = buf.length) {
    this.pos = start
  }
  get remaining(): number {
    return this.end - this.pos
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.end) malformed(`truncated ${what}`)
  }
  u8(what = "u8"): number {
    this.need(1, what)
    return this.buf[this.pos++]!
  }
  u16(what = "u16"): number {
    this.need(2, what)
    const v = this.buf.readUInt16LE(this.pos)
    this.pos += 2
    return v
  }
  u32(what = "u32"): number {
    this.need(4, what)
    const v = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }
  u64(what = "u64"): number {
    this.need(8, what)
    const lo = this.buf.readUInt32LE(this.pos)
    const hi = this.buf.readUInt32LE(this.pos + 4)
    if (hi > MAX_HIGH_WORD) malformed(`${what} ≥ 2^53`)
    this.pos += 8
    return hi * TWO_32 + lo
  }
  skip(n: number, what = "reserved"): void {
    this.need(n, what)
    this.pos += n
  }
  /** A view (no copy) of the next `n` bytes. */
  bytes(n: number, what = "bytes"): Buffer {
    this.need(n, what)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }
  /** §4.1: a datagram with bytes left over is malformed. */
  done(what: string): void {
    if (this.pos !== this.end) malformed(`${this.end - this.pos} bytes left over after ${what}`)
  }
}

/** Writer over a pre-sized buffer (every encoder computes its exact size first). */
export class Writer {
  pos: number
  constructor(readonly buf: Buffer, start = 0) {
    this.pos = start
  }
  u8(v: number): void {
    this.buf[this.pos++] = v
  }
  u16(v: number): void {
    this.buf.writeUInt16LE(v, this.pos)
    this.pos += 2
  }
  u32(v: number): void {
    this.buf.writeUInt32LE(v >>> 0, this.pos)
    this.pos += 4
  }
  u64(v: number): void {
    if (!(v >= 0 && v < 2 ** 53 && Number.isInteger(v))) throw new RangeError(`u64 out of range: ${v}`)
    this.buf.writeUInt32LE(v % TWO_32, this.pos)
    this.buf.writeUInt32LE(Math.floor(v / TWO_32), this.pos + 4)
    this.pos += 8
  }
  zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n)
    this.pos += n
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos)
    this.pos += b.length
  }
  /** A latin1 string, one byte per character (names: the caller checked the length). */
  latin1(s: string): void {
    this.pos += this.buf.write(s, this.pos, s.length, "latin1")
  }
}
