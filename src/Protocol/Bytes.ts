/**
 * Small byte helpers shared by the codecs. Names on the wire are C strings in fixed-width
 * fields; we keep them as `latin1` strings so every byte round-trips unchanged
 * (client-protocol §5.1: everything after the first NUL is ignored).
 */
import { MAX_GROUP_NAME } from "./Constants.js"

/** Reverses the byte order of a 32-bit word. */
export const swap32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0

/** The C string in `buf[start, start + width)`: the bytes before the first NUL. */
export const readCString = (buf: Buffer, start: number, width: number): string => {
  let end = start
  const limit = Math.min(start + width, buf.length)
  while (end < limit && buf[end] !== 0) end++
  return buf.toString("latin1", start, end)
}

/** Writes `name` NUL-padded into a `width`-byte field, keeping at most `width - 1` bytes. */
export const writeCString = (buf: Buffer, start: number, name: string, width: number): void => {
  const written = buf.write(name, start, Math.min(name.length, width - 1), "latin1")
  buf.fill(0, start + written, start + width)
}

/** A 32-byte group-name field. */
export const readGroupName = (buf: Buffer, start: number): string =>
  readCString(buf, start, MAX_GROUP_NAME)
export const writeGroupName = (buf: Buffer, start: number, name: string): void =>
  writeCString(buf, start, name, MAX_GROUP_NAME)

/** `n` consecutive 32-byte names starting at `start`. */
export const readGroupNames = (buf: Buffer, start: number, n: number): Array<string> => {
  const names = new Array<string>(n)
  for (let i = 0; i < n; i++) names[i] = readGroupName(buf, start + i * MAX_GROUP_NAME)
  return names
}
