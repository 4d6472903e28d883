/**
 * The message envelope of daemon-protocol §4.4: exact layout, round trips, and untrusted bytes.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodeEnvelope, type Envelope, encodeEnvelope } from "../../src/Protocol/Ring/index.ts"

const name = fc.string({ minLength: 0, maxLength: 31 }).map((s) => Buffer.from(s, "latin1").toString("latin1").slice(0, 31))

const envelope: fc.Arbitrary<Envelope> = fc.record({
  kind: fc.constantFrom("CLIENT_DATA", "GROUP_JOIN", "GROUP_LEAVE", "SESSION_KILL", "GROUPS_STATE" as const),
  service: fc.integer({ min: 0, max: 0xffffffff }),
  messType: fc.integer({ min: -32768, max: 32767 }),
  senderBigEndian: fc.boolean(),
  sender: name,
  groups: fc.array(name, { maxLength: 100 }),
  payload: fc.uint8Array({ maxLength: 300 })
})

describe("message envelope (§4.4)", () => {
  it("lays out a data message exactly", () => {
    const bytes = encodeEnvelope({
      kind: "CLIENT_DATA",
      service: 0x10,
      messType: 7,
      senderBigEndian: true,
      sender: "#a#n",
      groups: ["chat"],
      payload: Buffer.from("hi")
    })
    expect(bytes.toString("hex")).toBe(
      "01" + "01" + "0100" + "10000000" + "0700" + "04" + Buffer.from("#a#n").toString("hex") +
        "0100" + "04" + Buffer.from("chat").toString("hex") + "02000000" + "6869"
    )
  })

  it("round-trips every envelope", () => {
    fc.assert(fc.property(envelope, (e) => {
      const decoded = decodeEnvelope(encodeEnvelope(e))
      expect(decoded.ok).toBe(true)
      if (decoded.ok) expect({ ...decoded.envelope, payload: Buffer.from(decoded.envelope.payload) }).toEqual({ ...e, payload: Buffer.from(e.payload) })
    }))
  })

  it("arbitrary and truncated bytes give a typed error, never an exception", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const r = decodeEnvelope(Buffer.from(b))
      if (!r.ok) expect(r.error._tag).toBe("ProtocolError")
    }))
    fc.assert(fc.property(envelope, fc.nat(), (e, cut) => {
      const bytes = encodeEnvelope(e)
      const r = decodeEnvelope(bytes.subarray(0, cut % bytes.length))
      expect(r.ok).toBe(false)
    }))
  })

  it("refuses names over 31 bytes and more than 100 groups when encoding", () => {
    const base: Envelope = { kind: "GROUP_JOIN", service: 0, messType: 0, senderBigEndian: false, sender: "#a#n", groups: ["g"], payload: new Uint8Array() }
    expect(() => encodeEnvelope({ ...base, groups: ["x".repeat(32)] })).toThrow(RangeError)
    expect(() => encodeEnvelope({ ...base, groups: Array.from({ length: 101 }, () => "g") })).toThrow(RangeError)
  })
})
