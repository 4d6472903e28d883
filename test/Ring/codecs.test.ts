/**
 * daemon-protocol §4: round trips of every ring packet, and arbitrary bytes never escape as
 * anything but a typed rejection.
 */
import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import {
  type Commit, crc32c, crc32cUpdate, type DataPacket, decodeRingPacket, encodeCommit, encodeConfigMismatch,
  encodeDataPacket, encodeJoin, encodeLeave, encodeProbe, encodeToken, encodeTokenRequest, FLAG_RETRANSMISSION,
  type HeaderStamp, type Join, rangesOf, restampForRetransmission, type Section, type Token
} from "../../src/Protocol/Ring/index.js"

const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const u64 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1_000_000 })
const stamp: fc.Arbitrary<HeaderStamp> = fc.record({ configHash: u32, senderId: u32, senderIncarnation: u32, crc: fc.boolean() })
const ringId = fc.record({ seq: u64, rep: u32 })
const oldRingId = fc.record({ seq: u64, rep: u32, repIncarnation: u32 })
const proc = fc.record({ id: u32, incarnation: u32 })

const chunkData = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a))
const dataPacket: fc.Arbitrary<DataPacket> = fc.oneof(
  // one fragment of a large message
  fc.record({ serial: u32, count: fc.integer({ min: 2, max: 50_000 }), data: chunkData }).chain(({ serial, count, data }) =>
    fc.integer({ min: 0, max: count - 1 }).map((fragIndex) => [{ msgSerial: serial, fragIndex, fragCount: count, data }])
  ),
  // last fragment (or whole message) followed by whole messages
  fc.tuple(
    fc.record({ serial: u32, count: fc.integer({ min: 1, max: 100 }), data: chunkData }),
    fc.array(fc.record({ msgSerial: u32, data: chunkData }), { maxLength: 20 })
  ).map(([first, rest]) => [
    { msgSerial: first.serial, fragIndex: first.count - 1, fragCount: first.count, data: first.data },
    ...rest.map((r) => ({ msgSerial: r.msgSerial, fragIndex: 0, fragCount: 1, data: r.data }))
  ])
).chain((chunks) =>
  fc.record({
    ringId,
    seq,
    originatorId: u32,
    originatorIncarnation: u32,
    hop: u64,
    cls: fc.constantFrom(1 as const, 2 as const, 3 as const),
    chunks: fc.constant(chunks)
  })
)

const token: fc.Arbitrary<Token> = fc.integer({ min: 0, max: 4 }).chain((tableLen) =>
  fc.record({
    ringId,
    hop: u64,
    rotation: u64,
    seq: fc.integer({ min: 0, max: 1_000_000 }),
    aruDelta: fc.integer({ min: 0, max: 1000 }),
    aruId: u32,
    fcc: u32,
    backlog: u32,
    phase: fc.constantFrom(0 as const, 1 as const),
    idle: fc.integer({ min: 0, max: 255 }),
    recDone: fc.integer({ min: 0, max: 1 }),
    recDoneId: u32,
    ringTable: fc.array(oldRingId, { minLength: tableLen, maxLength: tableLen }),
    rtr: fc.array(
      fc.record({
        ringIdx: fc.integer({ min: 0, max: tableLen }),
        attempts: fc.integer({ min: 0, max: 255 }),
        hintDistance: fc.integer({ min: 0, max: 0xffff }),
        requesterId: u32,
        firstSeq: seq,
        count: fc.integer({ min: 1, max: 0xffff_ffff })
      }),
      { maxLength: 30 }
    )
  }).map(({ aruDelta, ...t }) => ({ ...t, aru: Math.max(0, t.seq - aruDelta) }))
)

const join: fc.Arbitrary<Join> = fc.record({
  maxRingSeqSeen: u64,
  oldRing: oldRingId,
  procSet: fc.array(proc, { maxLength: 20 }),
  failSet: fc.array(proc, { maxLength: 20 }),
  reachValid: fc.boolean(),
  reach: fc.array(u32, { maxLength: 20 }),
  quarantine: fc.array(fc.record({ id: u32, incarnation: u32, remainingMs: u32 }), { maxLength: 5 })
})

const section: fc.Arbitrary<Section> = fc.record({
  oldRing: oldRingId,
  stableAru: fc.integer({ min: 0, max: 1_000_000 }),
  span: fc.integer({ min: 0, max: 2000 }),
  holeBits: fc.array(fc.boolean(), { maxLength: 2000 }),
  dense: fc.boolean(),
  trans: fc.array(u32, { maxLength: 10 }),
  commit: fc.array(u32, { maxLength: 10 })
}).map(({ stableAru, span, holeBits, dense, ...rest }) => {
  const seqs: Array<number> = []
  for (let i = 0; i < span; i++) if ((dense ? holeBits[i] : holeBits[i] && i % 7 === 0)) seqs.push(stableAru + 1 + i)
  return { ...rest, stableAru, highSeq: stableAru + span, holes: rangesOf(seqs) }
})

const commit: fc.Arbitrary<Commit> = fc.record({
  newRing: ringId,
  hop: u64,
  phase: fc.constantFrom(1 as const, 2 as const),
  members: fc.array(fc.record({ id: u32, incarnation: u32, oldRing: oldRingId }), { minLength: 1, maxLength: 20 }),
  sections: fc.array(section, { maxLength: 6 })
}).chain((c) => fc.integer({ min: 0, max: c.members.length }).map((index) => ({ ...c, index })))

const decodeOk = (b: Buffer) => {
  const r = decodeRingPacket(b)
  if (!r.ok) throw new Error(`decode failed: ${r.reason} ${r.detail}`)
  return r
}

describe("Ring codecs (§4)", () => {
  it("CRC-32C check value and incremental use", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283)
    expect(crc32c(Buffer.alloc(0))).toBe(0)
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
      const ab = Buffer.concat([a, b])
      expect(crc32cUpdate(crc32c(a), b)).toBe(crc32c(ab))
    }))
  })

  it("CRC-32C equals the bit-at-a-time definition at any offset and length (the word loop's alignment)", () => {
    const bitwise = (bytes: Uint8Array): number => {
      let c = 0xffffffff
      for (const byte of bytes) {
        c ^= byte
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
      }
      return ~c >>> 0
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(7), fc.nat(7), (bytes, head, tail) => {
      const start = Math.min(head, bytes.length)
      const end = Math.max(start, bytes.length - tail)
      // A view at an odd offset of its buffer, as datagrams sliced out of a larger one are.
      expect(crc32c(bytes, start, end)).toBe(bitwise(bytes.subarray(start, end)))
      expect(crc32c(bytes.subarray(start, end))).toBe(bitwise(bytes.subarray(start, end)))
    }))
  })

  it("DATA round trip (§4.3)", () => {
    fc.assert(fc.property(stamp, dataPacket, (s, p) => {
      const r = decodeOk(encodeDataPacket(s, p))
      expect(r.header.senderId).toBe(s.senderId)
      expect(r.body).toEqual({ _tag: "DATA", data: p })
    }))
  })

  it("retransmission restamp keeps the body and validates, under the current hash (§5.6, §9.5)", () => {
    fc.assert(fc.property(stamp, dataPacket, u32, u32, (s, p, me, hash) => {
      const orig = encodeDataPacket(s, p)
      const copy = Buffer.from(orig)
      const r = decodeOk(restampForRetransmission(orig, { ...s, configHash: hash, senderId: me, senderIncarnation: 7 }))
      expect(orig.equals(copy)).toBe(true)
      expect(r.header.senderId).toBe(me)
      expect(r.header.senderIncarnation).toBe(7)
      expect(r.header.configHash).toBe(hash)
      expect(r.header.flags & FLAG_RETRANSMISSION).toBe(FLAG_RETRANSMISSION)
      expect(r.body).toEqual({ _tag: "DATA", data: p })
    }))
  })

  it("TOKEN round trip (§4.5)", () => {
    fc.assert(fc.property(stamp, token, (s, t) => {
      expect(decodeOk(encodeToken(s, t)).body).toEqual({ _tag: "TOKEN", token: t })
    }))
  })

  it("TOKEN keeps only the rtr entries that fit MaxTokenSize (§4.5)", () => {
    fc.assert(fc.property(stamp, token, fc.integer({ min: 92 + 80, max: 1472 }), (s, t, max) => {
      const b = encodeToken(s, t, max)
      expect(b.length).toBeLessThanOrEqual(Math.max(max, 92 + 16 * t.ringTable.length))
      const back = decodeOk(b).body
      if (back._tag !== "TOKEN") throw new Error("type")
      expect(back.token.rtr).toEqual(t.rtr.slice(0, back.token.rtr.length))
    }))
  })

  it("control packets round trip (§4.6)", () => {
    fc.assert(fc.property(stamp, ringId, fc.array(u32, { maxLength: 50 }), u32, fc.integer({ min: 0, max: 255 }), (s, id, ms, h, v) => {
      expect(decodeOk(encodeTokenRequest(s, id)).body).toEqual({ _tag: "TOKEN_REQUEST", ringId: id })
      expect(decodeOk(encodeLeave(s, id)).body).toEqual({ _tag: "LEAVE", ringId: id })
      expect(decodeOk(encodeProbe(s, id, ms)).body).toEqual({ _tag: "PROBE", ringId: id, members: ms })
      expect(decodeOk(encodeConfigMismatch(s, h, v)).body).toEqual({ _tag: "CONFIG_MISMATCH", myHash: h, myVersion: v })
    }))
  })

  it("JOIN round trip (§4.7 + R1 + R4)", () => {
    fc.assert(fc.property(stamp, join, (s, j) => {
      expect(decodeOk(encodeJoin(s, j)).body).toEqual({ _tag: "JOIN", join: j })
    }))
  })

  it("COMMIT round trip with ranges and bitmaps (§4.8, R5)", () => {
    fc.assert(fc.property(stamp, commit, (s, c) => {
      expect(decodeOk(encodeCommit(s, c)).body).toEqual({ _tag: "COMMIT", commit: c })
    }))
  })

  it("R5: a worst-case section uses the bitmap (every other seq missing)", () => {
    const seqs: Array<number> = []
    for (let q = 101; q <= 100 + 1920; q += 2) seqs.push(q)
    const sec: Section = {
      oldRing: { seq: 4, rep: 1, repIncarnation: 1 }, stableAru: 100, highSeq: 2020, trans: [1], commit: [1], holes: rangesOf(seqs)
    }
    const c: Commit = { newRing: { seq: 6, rep: 1 }, hop: 1, phase: 1, index: 0, members: [{ id: 1, incarnation: 1, oldRing: sec.oldRing }], sections: [sec] }
    const b = encodeCommit({ configHash: 1, senderId: 1, senderIncarnation: 1, crc: true }, c)
    expect(b.length).toBe(24 + 28 + 24 + 44 + 8 + 240)
    expect(decodeOk(b).body).toEqual({ _tag: "COMMIT", commit: c })
  })

  it("arbitrary bytes give a typed result, never an exception", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (a) => {
      const r = decodeRingPacket(Buffer.from(a))
      expect(typeof r.ok).toBe("boolean")
    }), { numRuns: 2000 })
  })

  it("mutated valid packets give a typed result, never an exception", () => {
    const anyPacket = fc.oneof(
      fc.tuple(stamp, dataPacket).map(([s, p]) => encodeDataPacket({ ...s, crc: false }, p)),
      fc.tuple(stamp, token).map(([s, t]) => encodeToken({ ...s, crc: false }, t)),
      fc.tuple(stamp, join).map(([s, j]) => encodeJoin({ ...s, crc: false }, j)),
      fc.tuple(stamp, commit).map(([s, c]) => encodeCommit({ ...s, crc: false }, c))
    )
    fc.assert(fc.property(anyPacket, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), (b, muts, cut) => {
      const m = Buffer.from(b)
      for (const [i, v] of muts) m[24 + (i % Math.max(1, m.length - 24))] = v
      const truncated = m.subarray(0, m.length - (cut % 8))
      const r = decodeRingPacket(truncated)
      expect(typeof r.ok).toBe("boolean")
    }), { numRuns: 2000 })
  })

  it("rejects a corrupted CRC and left-over bytes", () => {
    const p = encodeLeave({ configHash: 1, senderId: 2, senderIncarnation: 3, crc: true }, { seq: 2, rep: 1 })
    const bad = Buffer.from(p)
    bad[30]! ^= 1
    expect(decodeRingPacket(bad)).toMatchObject({ ok: false, reason: "crc" })
    const long = Buffer.concat([encodeLeave({ configHash: 1, senderId: 2, senderIncarnation: 3, crc: false }, { seq: 2, rep: 1 }), Buffer.alloc(1)])
    expect(decodeRingPacket(long)).toMatchObject({ ok: false, reason: "malformed" })
  })
})
