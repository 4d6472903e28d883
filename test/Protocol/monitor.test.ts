/**
 * daemon-protocol §10: the monitor packets round-trip, untrusted bytes give a typed rejection
 * (never a throw), and the MonitorKey HMAC catches any change.
 */
import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import {
  COUNTER_FIELDS, decodeMonitorPacket, encodeMonitorPacket, ENGINE_STATES, GROUP_STATES, isMonitorDatagram,
  isMonitorPacketType, MAX_I16, MONITOR_MAC_LENGTH, type MonitorCounters, type MonitorPacket, MonitorPacketType,
  REPLY_OUTCOMES, signMonitorPacket, type StatusReplyFields, verifyMonitorPacket
} from "../../src/Protocol/Ring/Monitor.js"
import { decodeRingPacket, HEADER_LENGTH, OFF_SENDER_ID } from "../../src/Protocol/Ring/index.js"

const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const u64 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
const replyPort = fc.integer({ min: 1, max: 0xffff })
const i16 = fc.integer({ min: 0, max: MAX_I16 })
const optionalI16 = fc.option(i16, { nil: null })
/** Strings whose UTF-8 fits the u8 length fields. */
const shortText = fc.string({ maxLength: 60 })

const counters: fc.Arbitrary<MonitorCounters> = fc.tuple(...COUNTER_FIELDS.map(() => u64)).map((values) =>
  Object.fromEntries(COUNTER_FIELDS.map((f, i) => [f, values[i]!])) as MonitorCounters
)

const status: fc.Arbitrary<StatusReplyFields> = fc.record({
  uptimeMs: u64,
  state: fc.constantFrom(...ENGINE_STATES),
  gstate: fc.constantFrom(...GROUP_STATES),
  myId: u32,
  leaderId: u32,
  ringId: fc.record({ seq: u64, rep: u32 }),
  windows: fc.record({ window: u16, personalWindow: u16, acceleratedWindow: u16 }),
  acceleratedRing: fc.boolean(),
  sessions: u32,
  groups: u32,
  counters,
  members: fc.array(u32, { maxLength: 128 }),
  daemonName: shortText,
  version: shortText
})

const requestTags = ["MON_STATUS_REQUEST", "MON_PARTITION", "MON_FLOW_CONTROL", "MON_RELOAD", "MON_KILL"] as const

const packet: fc.Arbitrary<MonitorPacket> = fc.oneof(
  fc.record({ _tag: fc.constant("MON_STATUS_REQUEST" as const), replyPort, nonce: u32 }),
  fc.record({ _tag: fc.constant("MON_RELOAD" as const), replyPort, nonce: u32 }),
  fc.record({ _tag: fc.constant("MON_PARTITION" as const), replyPort, nonce: u32, components: fc.array(i16, { maxLength: 128 }) }),
  fc.record({
    _tag: fc.constant("MON_FLOW_CONTROL" as const),
    replyPort,
    nonce: u32,
    window: optionalI16,
    perDaemon: fc.array(fc.record({ personalWindow: optionalI16, acceleratedWindow: optionalI16 }), { maxLength: 128 })
  }),
  fc.record({ _tag: fc.constant("MON_KILL" as const), replyPort, nonce: u32, targets: fc.array(u32, { maxLength: 128 }) }),
  fc.record({
    _tag: fc.constant("MON_STATUS_REPLY" as const),
    nonce: u32,
    answered: fc.constantFrom(...requestTags),
    outcome: fc.constantFrom(...REPLY_OUTCOMES),
    detail: shortText,
    status
  })
)

const key = fc.uint8Array({ minLength: 1, maxLength: 64 })

describe("monitor packets (§10)", () => {
  it("round-trip, with senderId 0 and the configuration hash in the header", () => {
    fc.assert(fc.property(u32, packet, (hash, p) => {
      const bytes = encodeMonitorPacket(hash, p)
      const d = decodeMonitorPacket(bytes)
      expect(d).toEqual({ ok: true, header: expect.objectContaining({ configHash: hash, senderId: 0 }), packet: p })
      expect(isMonitorDatagram(bytes)).toBe(true)
    }))
  })

  it("are refused by the ring decoder, and ring types are refused here", () => {
    const bytes = encodeMonitorPacket(1, { _tag: "MON_RELOAD", replyPort: 9, nonce: 1 })
    expect(decodeRingPacket(bytes)).toMatchObject({ ok: false, reason: "type" })
    const ring = Buffer.from(bytes)
    ring[3] = 0x01
    expect(decodeMonitorPacket(ring)).toMatchObject({ ok: false, reason: "type" })
    expect([0x1f, 0x20, 0x25, 0x26].map(isMonitorPacketType)).toEqual([false, true, true, false])
  })

  it("never throw on arbitrary bytes, even behind a valid monitor header", () => {
    const header = encodeMonitorPacket(7, { _tag: "MON_RELOAD", replyPort: 9, nonce: 1 }).subarray(0, HEADER_LENGTH)
    fc.assert(fc.property(
      fc.constantFrom(...Object.values(MonitorPacketType)),
      fc.uint8Array({ maxLength: 400 }),
      (type, body) => {
        const bytes = Buffer.concat([header, body])
        bytes[3] = type
        bytes.writeUInt16LE(0, 16) // no CRC: let the body reach the decoder
        bytes.writeUInt32LE(0, 20)
        const d = decodeMonitorPacket(bytes)
        if (!d.ok) expect(d.reason).toBe("malformed")
      }
    ))
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (raw) => {
      expect(typeof decodeMonitorPacket(Buffer.from(raw)).ok).toBe("boolean")
    }))
  })

  it("reject every truncation and every extension of a valid packet", () => {
    fc.assert(fc.property(packet, fc.integer({ min: 1, max: 8 }), (p, extra) => {
      const bytes = encodeMonitorPacket(3, p)
      bytes.writeUInt16LE(0, 16) // without CRC, so the length rules are what fails
      bytes.writeUInt32LE(0, 20)
      for (let n = 0; n < bytes.length; n++) expect(decodeMonitorPacket(bytes.subarray(0, n)).ok).toBe(false)
      const longer = Buffer.concat([bytes, Buffer.alloc(extra)])
      expect(decodeMonitorPacket(longer)).toMatchObject({ ok: false, reason: "malformed" })
    }))
  })

  it("catch a flipped bit with the CRC", () => {
    fc.assert(fc.property(packet, fc.nat(), (p, at) => {
      const bytes = encodeMonitorPacket(3, p)
      const bit = at % (bytes.length * 8)
      if (bit >= 16 * 8 && bit < 18 * 8) return // flipping a flag bit may turn the CRC off or make the flags unknown
      bytes[bit >> 3]! ^= 1 << (bit & 7)
      expect(decodeMonitorPacket(bytes).ok).toBe(false)
    }))
  })

  it("reject values the layout forbids", () => {
    const at = (p: MonitorPacket, off: number, v: number) => {
      const b = encodeMonitorPacket(0, p)
      b.writeUInt16LE(0, 16)
      b.writeUInt32LE(0, 20)
      b.writeUInt16LE(v, HEADER_LENGTH + off)
      return decodeMonitorPacket(b)
    }
    const partition: MonitorPacket = { _tag: "MON_PARTITION", replyPort: 5, nonce: 1, components: [0, 1] }
    expect(at(partition, 8, 0xffff)).toMatchObject({ ok: false, detail: expect.stringContaining("MON_KILL") })
    expect(at(partition, 0, 0)).toMatchObject({ ok: false, detail: "replyPort is 0" })
    const fcReq: MonitorPacket = { _tag: "MON_FLOW_CONTROL", replyPort: 5, nonce: 1, window: 10, perDaemon: [] }
    expect(at(fcReq, 6, 0x8000)).toMatchObject({ ok: false, detail: "Window is negative" })
    expect(at(fcReq, 6, 0xffff)).toMatchObject({ ok: true, packet: { window: null } })
  })

  it("refuse to encode values that do not fit", () => {
    expect(() => encodeMonitorPacket(0, { _tag: "MON_STATUS_REQUEST", replyPort: 0, nonce: 1 })).toThrow(RangeError)
    expect(() => encodeMonitorPacket(0, { _tag: "MON_PARTITION", replyPort: 1, nonce: 1, components: [-1] })).toThrow(RangeError)
    expect(() =>
      encodeMonitorPacket(0, { _tag: "MON_FLOW_CONTROL", replyPort: 1, nonce: 1, window: 40_000, perDaemon: [] })
    ).toThrow(RangeError)
  })
})

describe("MonitorKey HMAC (§10)", () => {
  it("verifies a signed packet and gives back the packet", () => {
    fc.assert(fc.property(packet, key, (p, k) => {
      const bytes = encodeMonitorPacket(1, p)
      const signed = signMonitorPacket(bytes, k)
      expect(signed.length).toBe(bytes.length + MONITOR_MAC_LENGTH)
      const v = verifyMonitorPacket(signed, k)
      expect(v.ok && v.packet.equals(bytes)).toBe(true)
    }))
  })

  it("fails on any flipped bit, on another key and on a missing trailer", () => {
    fc.assert(fc.property(packet, key, fc.nat(), (p, k, at) => {
      const signed = signMonitorPacket(encodeMonitorPacket(1, p), k)
      const bit = at % (signed.length * 8)
      signed[bit >> 3]! ^= 1 << (bit & 7)
      expect(verifyMonitorPacket(signed, k)).toEqual({ ok: false, reason: "mac" })
    }))
    const bytes = encodeMonitorPacket(1, { _tag: "MON_KILL", replyPort: 2, nonce: 3, targets: [4] })
    expect(verifyMonitorPacket(signMonitorPacket(bytes, Buffer.from("a")), Buffer.from("b")).ok).toBe(false)
    expect(verifyMonitorPacket(bytes.subarray(0, HEADER_LENGTH + 4), Buffer.from("a"))).toEqual({ ok: false, reason: "short" })
    expect(verifyMonitorPacket(bytes, Buffer.from("a")).ok).toBe(false)
  })

  it("covers the header: a changed sender id is caught", () => {
    const signed = signMonitorPacket(encodeMonitorPacket(1, { _tag: "MON_RELOAD", replyPort: 2, nonce: 3 }), Buffer.from("k"))
    signed.writeUInt32LE(5, OFF_SENDER_ID)
    expect(verifyMonitorPacket(signed, Buffer.from("k")).ok).toBe(false)
  })
})
