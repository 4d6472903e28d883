/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), plain TypeScript, slicing-by-8 tables.
 * daemon-protocol §4.1: optional datagram checksum (`HAS_CRC`), computed over the whole datagram
 * with the `crc32c` field zeroed.
 */

const POLY = 0x82f63b78

/**
 * Slicing-by-8 tables, flattened: `T[k * 256 + n]` (one Int32Array is measurably faster in V8
 * than an array of eight: ≈ 520 vs 400 MB/s on 1472-byte datagrams).
 */
const T: Int32Array = (() => {
  const t = new Int32Array(8 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
})()

/** Typed arrays use the host's byte order; the word loop below reads little-endian words. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * From this many bytes on, the bulk is read as 32-bit words through an Int32Array view: twice
 * as fast on a 1,472-byte datagram (≈ 1.2 vs 0.65 GB/s), while a view costs more than it saves
 * on a token-sized one.
 */
const WORD_LOOP_MIN = 64

/** One slicing-by-8 step: the CRC after 8 bytes whose first four, XORed with `c`, are `a`. */
const step8 = (a: number, b: number): number =>
  T[1792 + (a & 0xff)]! ^ T[1536 + ((a >>> 8) & 0xff)]! ^ T[1280 + ((a >>> 16) & 0xff)]! ^ T[1024 + (a >>> 24)]! ^
  T[768 + (b & 0xff)]! ^ T[512 + ((b >>> 8) & 0xff)]! ^ T[256 + ((b >>> 16) & 0xff)]! ^ T[b >>> 24]!

/**
 * Continues a CRC-32C over `buf[start, end)`. `crc` is the running value as returned by an earlier
 * call (start with 0); the result is the finished (post-inverted) CRC of everything so far.
 */
export const crc32cUpdate = (crc: number, buf: Uint8Array, start = 0, end = buf.length): number => {
  let c = ~crc
  let i = start
  if (LITTLE_ENDIAN && end - start >= WORD_LOOP_MIN) {
    // Bytes up to a 4-byte boundary of the underlying buffer, then 8-byte steps over words.
    while (((buf.byteOffset + i) & 3) !== 0) c = T[(c ^ buf[i++]!) & 0xff]! ^ (c >>> 8)
    const pairs = (end - i) >>> 3
    const words = new Int32Array(buf.buffer, buf.byteOffset + i, pairs * 2)
    for (let w = 0; w < words.length; w += 2) c = step8(c ^ words[w]!, words[w + 1]!)
    i += pairs * 8
  } else {
    for (const last8 = end - 8; i <= last8; i += 8) {
      c = step8(c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)),
        buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24))
    }
  }
  while (i < end) c = T[(c ^ buf[i++]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** CRC-32C of `buf[start, end)`. `crc32c(Buffer.from("123456789")) === 0xe3069283`. */
export const crc32c = (buf: Uint8Array, start = 0, end = buf.length): number => crc32cUpdate(0, buf, start, end)
