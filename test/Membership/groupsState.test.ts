/**
 * GROUPS_STATE codec (daemon-protocol §8.7): exact layout, round trips, and untrusted bytes giving
 * only the typed error (fast-check).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { ConfigurationId } from "../../src/Membership/ConfigurationId.ts"
import {
  decodeGroupsState,
  encodeGroupsState,
  GroupsStateDecodeError,
  type GroupsState,
  type MembId,
  UNKNOWN
} from "../../src/Membership/GroupsState.ts"

const u32 = fc.nat({ max: 0xffff_ffff })
const int32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff })
const configId: fc.Arbitrary<ConfigurationId> = fc
  .record({ trans: fc.boolean(), half: fc.nat({ max: Math.floor((Number.MAX_SAFE_INTEGER - 1) / 2) }), rep: u32 })
  .map(({ trans, half, rep }) => ({ kind: trans ? "TRANS" : "REG", seq: half * 2 + (trans ? 1 : 0), rep }))
const membId: fc.Arbitrary<MembId> = fc.oneof(configId, fc.constant(UNKNOWN))
/** latin1 names, as on our wire (Protocol/Bytes). */
const name = fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 31 })

const state: fc.Arbitrary<GroupsState> = fc.record({
  configId,
  syncedSet: fc.array(u32, { maxLength: 5 }),
  groups: fc.array(
    fc.record({
      name,
      gid: fc.record({ procId: int32, time: int32, index: int32 }),
      changed: fc.boolean(),
      daemons: fc.array(
        fc.record({ daemonId: u32, membId, members: fc.array(name, { maxLength: 4 }) }),
        { maxLength: 4 }
      )
    }),
    { maxLength: 6 }
  )
})

describe("GROUPS_STATE codec (§8.7)", () => {
  it("writes exactly the listed little-endian layout", () => {
    const bytes = encodeGroupsState({
      configId: { kind: "REG", seq: 6, rep: 0x1d5c9b95 },
      syncedSet: [0x1d5c9b95],
      groups: [{
        name: "chat",
        gid: { procId: 0x1d5c9b95, time: 4, index: 1 },
        changed: true,
        daemons: [{ daemonId: 0x1d5c9b95, membId: { kind: "TRANS", seq: 5, rep: 0x1d5c9b95 }, members: ["#a#n1"] }]
      }]
    })
    expect(bytes.toString("hex")).toBe(
      [
        "01", "0600000000000000", "959b5c1d", // configId
        "0100", "959b5c1d", // synced set
        "01000000", // group count
        "04", Buffer.from("chat").toString("hex"), "959b5c1d", "04000000", "01000000", "01", "0100",
        "959b5c1d", "02", "0500000000000000", "959b5c1d", "0100", "05", Buffer.from("#a#n1").toString("hex")
      ].join("")
    )
  })

  it("round-trips every state", () => {
    fc.assert(fc.property(state, (s) => {
      const bytes = encodeGroupsState(s)
      const decoded = decodeGroupsState(bytes)
      expect(decoded).toEqual({ ok: true, state: s })
    }))
  })

  it("arbitrary bytes give a state that re-encodes to the same bytes, or the typed error", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
      const bytes = Buffer.from(raw)
      const decoded = decodeGroupsState(bytes)
      if (decoded.ok) expect(encodeGroupsState(decoded.state).equals(bytes)).toBe(true)
      else expect(decoded.error).toBeInstanceOf(GroupsStateDecodeError)
    }), { numRuns: 2000 })
  })

  it("truncated or corrupted encodings give the typed error, never an exception", () => {
    fc.assert(fc.property(state, fc.nat(), fc.nat({ max: 255 }), fc.boolean(), (s, at, byte, cut) => {
      const bytes = Buffer.from(encodeGroupsState(s))
      const i = at % bytes.length
      const input = cut ? bytes.subarray(0, i) : (bytes[i] = byte, bytes)
      const decoded = decodeGroupsState(input)
      if (decoded.ok) expect(encodeGroupsState(decoded.state).equals(input)).toBe(true)
      else expect(decoded.error._tag).toBe("GroupsStateDecodeError")
    }), { numRuns: 2000 })
  })

  it("refuses huge counts without allocating for them", () => {
    const bytes = encodeGroupsState({ configId: { kind: "REG", seq: 2, rep: 1 }, syncedSet: [], groups: [] })
    bytes.writeUInt32LE(0xffff_ffff, bytes.length - 4)
    const decoded = decodeGroupsState(bytes)
    expect(decoded.ok).toBe(false)
  })
})
