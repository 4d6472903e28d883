/**
 * The 48-byte message header (client-protocol §4.1) and its byte-order rules (§4.2, §4.4).
 * Readers run on little-endian hosts; writers always write little-endian with the flag set.
 */
import { readGroupName, swap32, writeGroupName } from "./Bytes.js"
import { ENDIAN_TYPE, HEADER_LENGTH } from "./Constants.js"

export const TYPE_OFFSET = 0
export const NAME_OFFSET = 4
export const NUM_GROUPS_OFFSET = 36
export const HINT_OFFSET = 40
export const DATA_LEN_OFFSET = 44

export type ByteOrder = "little" | "big"

/** A decoded header. `type`, `numGroups` and `dataLen` are in host order; `hint` is raw. */
export interface Header {
  /** Unsigned type word, flag bits as written by the sender (after the swap). */
  readonly type: number
  /** Signed, as the C field. */
  readonly numGroups: number
  /** The hint word exactly as read little-endian from the wire; see {@link decodeHint}. */
  readonly hint: number
  /** Signed, as the C field. */
  readonly dataLen: number
  /** `type`, `numGroups` and `dataLen` were written in the other byte order (§4.2). */
  readonly swapped: boolean
}

/**
 * True when the word's endian flag says "little-endian writer" (both bits set). The `>>> 0`
 * matters: `&` yields a signed int32 (bit 31 set → negative) while `ENDIAN_TYPE` is the positive
 * number 0x80000080, so without it the comparison is always false.
 */
export const isLittleEndianWord = (word: number): boolean => ((word & ENDIAN_TYPE) >>> 0) === ENDIAN_TYPE

/** Reads the header words at `offset` (the caller guarantees 48 bytes are there). */
export const readHeader = (buf: Buffer, offset = 0): Header => {
  const rawType = buf.readUInt32LE(offset + TYPE_OFFSET)
  const hint = buf.readUInt32LE(offset + HINT_OFFSET)
  if (isLittleEndianWord(rawType)) {
    return {
      type: rawType,
      numGroups: buf.readInt32LE(offset + NUM_GROUPS_OFFSET),
      hint,
      dataLen: buf.readInt32LE(offset + DATA_LEN_OFFSET),
      swapped: false
    }
  }
  return {
    type: swap32(rawType),
    numGroups: buf.readInt32BE(offset + NUM_GROUPS_OFFSET),
    hint,
    dataLen: buf.readInt32BE(offset + DATA_LEN_OFFSET),
    swapped: true
  }
}

/** The sender name field (`#priv#proc` for data, the group for membership). */
export const readHeaderName = (buf: Buffer, offset = 0): string => readGroupName(buf, offset + NAME_OFFSET)

/** Result of decoding a `hint` word (§4.4). */
export interface Hint {
  readonly messType: number
  readonly endianMismatch: boolean
}

/** Decodes the raw (little-endian read) hint: swap if its flag differs, take bits 8..23 as int16. */
export const decodeHint = (rawHint: number): Hint => {
  const endianMismatch = !isLittleEndianWord(rawHint)
  const hint = endianMismatch ? swap32(rawHint) : rawHint
  return { messType: ((hint >>> 8) << 16) >> 16, endianMismatch }
}

/** The hint word a sender of `byteOrder` writes for `messType` (§4.4), as a host-order value. */
export const encodeHint = (messType: number, byteOrder: ByteOrder = "little"): number =>
  (((messType << 8) & 0x00ffff00) | (byteOrder === "little" ? ENDIAN_TYPE : 0)) >>> 0

/** Fields of a header to write. `type` carries no flag; the writer adds it. */
export interface HeaderFields {
  readonly type: number
  readonly name: string
  readonly numGroups: number
  /** Host-order hint word including its flag (see {@link encodeHint}). */
  readonly hint: number
  readonly dataLen: number
}

/** Writes a header at `offset` in `byteOrder` (Java clients write big-endian, flag clear). */
export const writeHeader = (buf: Buffer, offset: number, h: HeaderFields, byteOrder: ByteOrder = "little"): void => {
  if (byteOrder === "little") {
    buf.writeUInt32LE((h.type | ENDIAN_TYPE) >>> 0, offset + TYPE_OFFSET)
    buf.writeInt32LE(h.numGroups, offset + NUM_GROUPS_OFFSET)
    buf.writeUInt32LE(h.hint >>> 0, offset + HINT_OFFSET)
    buf.writeInt32LE(h.dataLen, offset + DATA_LEN_OFFSET)
  } else {
    buf.writeUInt32BE((h.type & ~ENDIAN_TYPE) >>> 0, offset + TYPE_OFFSET)
    buf.writeInt32BE(h.numGroups, offset + NUM_GROUPS_OFFSET)
    buf.writeUInt32BE(h.hint >>> 0, offset + HINT_OFFSET)
    buf.writeInt32BE(h.dataLen, offset + DATA_LEN_OFFSET)
  }
  writeGroupName(buf, offset + NAME_OFFSET, h.name)
}

export { HEADER_LENGTH }
