/** Small unit tests of the byte-level pieces: endian flag, hint, header words, names, ByteQueue. */
import { describe, expect, it } from "vitest"
import { ByteQueue } from "../../src/Protocol/ByteQueue.ts"
import { readCString, swap32, writeCString } from "../../src/Protocol/Bytes.ts"
import { AGREED_MESS, ENDIAN_TYPE, hasOneBitOf, isMembershipMessage, isRegularMessage, isSelfLeave, REGULAR_MESS } from "../../src/Protocol/Constants.ts"
import { daemonMessageLength } from "../../src/Protocol/DaemonMessage.ts"
import { decodeHint, encodeHint, isLittleEndianWord, readHeader, readHeaderName, writeHeader } from "../../src/Protocol/Header.ts"
import * as Protocol from "../../src/Protocol/index.ts"
import { ProtocolError } from "../../src/Protocol/ProtocolError.ts"

describe("endian flag (§4.2)", () => {
  it("both flag bits set means a little-endian writer", () => {
    expect(isLittleEndianWord(ENDIAN_TYPE)).toBe(true)
    expect(isLittleEndianWord(0x80001180)).toBe(true)
    expect(isLittleEndianWord(0xffffffff)).toBe(true)
    expect(isLittleEndianWord(-1)).toBe(true)
    expect(isLittleEndianWord(0x80000080 | 0)).toBe(true)
  })

  it("one or no flag bit means the other order", () => {
    expect(isLittleEndianWord(0)).toBe(false)
    expect(isLittleEndianWord(0x80000000)).toBe(false)
    expect(isLittleEndianWord(0x00000080)).toBe(false)
    expect(isLittleEndianWord(0x00001100)).toBe(false)
  })

  it("swap32 reverses the bytes and is unsigned", () => {
    expect(swap32(0x11223344)).toBe(0x44332211)
    expect(swap32(0x80001180)).toBe(0x80110080)
    expect(swap32(0x000000ff)).toBe(0xff000000)
    expect(swap32(swap32(0xdeadbeef))).toBe(0xdeadbeef)
  })
})

describe("hint (§4.4)", () => {
  it("encodes mess_type << 8 with the writer's flag", () => {
    expect(encodeHint(0)).toBe(0x80000080)
    expect(encodeHint(7)).toBe(0x80000780)
    expect(encodeHint(-2)).toBe(0x80fffe80)
    expect(encodeHint(300)).toBe(0x80012c80)
    expect(encodeHint(7, "big")).toBe(0x00000700)
    expect(encodeHint(-32768, "big")).toBe(0x00800000)
  })

  it("decodes a same-order hint", () => {
    expect(decodeHint(0x80fffe80)).toEqual({ messType: -2, endianMismatch: false })
    expect(decodeHint(0x80012c80)).toEqual({ messType: 300, endianMismatch: false })
    expect(decodeHint(0x807fff80)).toEqual({ messType: 32767, endianMismatch: false })
  })

  it("decodes a big-endian sender's hint 00 00 07 00 (read little-endian: 0x00070000)", () => {
    expect(decodeHint(Buffer.from("00000700", "hex").readUInt32LE(0))).toEqual({ messType: 7, endianMismatch: true })
    expect(decodeHint(Buffer.from("00fffe00", "hex").readUInt32LE(0))).toEqual({ messType: -2, endianMismatch: true })
  })
})

describe("header (§4.1)", () => {
  const fields = { type: AGREED_MESS, name: "#alice#node1", numGroups: 1, hint: encodeHint(7), dataLen: 5 }

  it("writes the §11.4 little-endian header", () => {
    const buf = Buffer.alloc(48)
    writeHeader(buf, 0, fields)
    expect(buf.toString("hex")).toBe(
      "90000080" + "23616c696365236e6f646531" + "00".repeat(20) + "01000000" + "80070080" + "05000000"
    )
    expect(readHeader(buf)).toEqual({ type: 0x80000090, numGroups: 1, hint: 0x80000780, dataLen: 5, swapped: false })
    expect(readHeaderName(buf)).toBe("#alice#node1")
  })

  it("writes and reads a big-endian (Java) header at an offset", () => {
    const buf = Buffer.alloc(52, 0xee)
    writeHeader(buf, 4, { ...fields, hint: encodeHint(7, "big") }, "big")
    expect(buf.subarray(4, 8).toString("hex")).toBe("00000010")
    expect(buf.subarray(44, 48).toString("hex")).toBe("00000700")
    expect(readHeader(buf, 4)).toEqual({ type: 0x10, numGroups: 1, hint: 0x00070000, dataLen: 5, swapped: true })
    expect(readHeaderName(buf, 4)).toBe("#alice#node1")
  })

  it("daemonMessageLength counts groups, body and a reject's old_type word; negative counts are fatal", () => {
    const h = { type: 0x80000090, numGroups: 2, hint: 0, dataLen: 10, swapped: false }
    expect(daemonMessageLength(h)).toBe(48 + 64 + 10)
    expect(daemonMessageLength({ ...h, type: 0x80400090 })).toBe(48 + 4 + 64 + 10)
    expect(() => daemonMessageLength({ ...h, numGroups: -1 })).toThrow(ProtocolError)
    expect(() => daemonMessageLength({ ...h, dataLen: -1 })).toThrow(ProtocolError)
  })
})

describe("names in fixed-width fields", () => {
  it("reads up to the first NUL and ignores the junk after it", () => {
    const buf = Buffer.from("chat\0junk", "latin1")
    expect(readCString(buf, 0, 9)).toBe("chat")
    expect(readCString(buf, 5, 4)).toBe("junk")
    expect(readCString(buf, 0, 100)).toBe("chat")
  })

  it("writes NUL-padded and keeps at most width − 1 bytes", () => {
    const buf = Buffer.alloc(8, 0xff)
    writeCString(buf, 0, "abcdefghij", 8)
    expect(buf.toString("hex")).toBe("61626364656667" + "00")
    writeCString(buf, 0, "\u00e9", 8)
    expect(buf.toString("hex")).toBe("e9" + "00".repeat(7))
  })
})

describe("service-type predicates (§4.3)", () => {
  it("classify as sp.h does", () => {
    expect(isRegularMessage(AGREED_MESS)).toBe(true)
    expect(isRegularMessage(0x00400010)).toBe(false)
    expect(isMembershipMessage(0x1100)).toBe(true)
    expect(isSelfLeave(0x0200)).toBe(true)
    expect(isSelfLeave(0x1200)).toBe(false)
    expect(hasOneBitOf(0x10, REGULAR_MESS)).toBe(true)
    expect(hasOneBitOf(0x30, REGULAR_MESS)).toBe(false)
    expect(hasOneBitOf(0x80000000, 0x80000000)).toBe(true)
  })
})

describe("ByteQueue", () => {
  const bytes = (...xs: Array<number>) => Buffer.from(xs)

  it("peeks without consuming and takes across chunks", () => {
    const q = new ByteQueue()
    q.push(bytes(1, 2))
    q.push(bytes())
    q.push(bytes(3))
    q.push(bytes(4, 5, 6))
    expect(q.length).toBe(6)
    expect([...q.peek(1)]).toEqual([1])
    expect([...q.peek(4)]).toEqual([1, 2, 3, 4])
    expect(q.length).toBe(6)
    expect([...q.take(3)]).toEqual([1, 2, 3])
    expect([...q.take(2)]).toEqual([4, 5])
    expect(q.length).toBe(1)
    q.push(bytes(7, 8))
    expect([...q.takeAll()]).toEqual([6, 7, 8])
    expect(q.length).toBe(0)
  })

  it("handles a partly consumed first chunk", () => {
    const q = new ByteQueue()
    q.push(bytes(1, 2, 3))
    q.take(2)
    q.push(bytes(4))
    q.push(bytes(5))
    expect([...q.peek(3)]).toEqual([3, 4, 5])
    expect([...q.take(1)]).toEqual([3])
    expect([...q.take(2)]).toEqual([4, 5])
  })

  it("zero-length peeks and takes are empty, even on an empty queue", () => {
    const q = new ByteQueue()
    expect(q.peek(0).length).toBe(0)
    expect(q.take(0).length).toBe(0)
    expect(q.takeAll().length).toBe(0)
    q.push(bytes(9))
    expect(q.take(0).length).toBe(0)
    expect(q.length).toBe(1)
  })

  it("asking for more than it holds is a programming error (RangeError), not a crash", () => {
    const q = new ByteQueue()
    expect(() => q.peek(1)).toThrow(RangeError)
    q.push(bytes(1, 2))
    expect(() => q.take(3)).toThrow(RangeError)
    expect(() => q.peek(-1)).toThrow(RangeError)
    expect(q.length).toBe(2)
  })

  it("joins a message that arrived one byte at a time in linear time", () => {
    const n = 200_000
    const q = new ByteQueue()
    for (let i = 0; i < n; i++) q.push(bytes(i & 0xff))
    const start = performance.now()
    const out = q.take(n)
    const elapsed = performance.now() - start
    expect(out.length).toBe(n)
    expect(out[n - 1]).toBe((n - 1) & 0xff)
    // Quadratic joining took seconds here; linear takes a few milliseconds.
    expect(elapsed).toBeLessThan(500)
  })
})

describe("index", () => {
  it("re-exports the codecs (HEADER_LENGTH comes from two modules as one binding)", () => {
    expect(Protocol.HEADER_LENGTH).toBe(48)
    expect(Protocol.ProtocolError).toBe(ProtocolError)
    for (const f of [Protocol.encodeConnect, Protocol.parseConnect, Protocol.decodeDaemonMessage, Protocol.encodeClientMessage, Protocol.parseSpreadName, Protocol.parsePrivateGroup, Protocol.readHeader]) {
      expect(typeof f).toBe("function")
    }
    expect(new Protocol.ByteQueue().length).toBe(0)
  })
})
