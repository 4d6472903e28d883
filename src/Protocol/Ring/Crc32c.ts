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

/**
 * Continues a CRC-32C over `buf[start, end)`. `crc` is the running value as returned by an earlier
 * call (start with 0); the result is the finished (post-inverted) CRC of everything so far.
 */
export const crc32cUpdate = (crc: number, buf: Uint8Array, start = 0, end = buf.length): number => {
  let c = ~crc
  let i = start
  const last8 = end - 8
  while (i <= last8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))
    c = T[1792 + (a & 0xff)]! ^ T[1536 + ((a >>> 8) & 0xff)]! ^ T[1280 + ((a >>> 16) & 0xff)]! ^ T[1024 + (a >>> 24)]! ^
      T[768 + buf[i + 4]!]! ^ T[512 + buf[i + 5]!]! ^ T[256 + buf[i + 6]!]! ^ T[buf[i + 7]!]!
    i += 8
  }
  while (i < end) c = T[(c ^ buf[i++]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}

/** CRC-32C of `buf[start, end)`. `crc32c(Buffer.from("123456789")) === 0xe3069283`. */
export const crc32c = (buf: Uint8Array, start = 0, end = buf.length): number => crc32cUpdate(0, buf, start, end)
