/**
 * Daemon-side encoders against the golden vectors: the auth list, the accept, reject bytes and the
 * membership messages our daemon writes must equal what the reference daemon wrote, outside the
 * `varying` ranges. The membership encoders are driven by the vector's `decoded` fields (cause from
 * the type, members from the groups, gid, vs_sets and local_vs_set_index from `membership`).
 */
import { describe, expect, it } from "vitest"
import { encodeClientMessage } from "../../src/Protocol/ClientMessage.ts"
import {
  CAUSED_BY_DISCONNECT,
  CAUSED_BY_JOIN,
  CAUSED_BY_LEAVE,
  CAUSED_BY_NETWORK,
  ENDIAN_TYPE,
  REG_MEMB_MESS,
  REGULAR_MESS,
  SPREAD_VERSION,
  TRANSITION_MESS
} from "../../src/Protocol/Constants.ts"
import { encodeRegularMembership, encodeSelfLeave, encodeTransition, type MembershipCause } from "../../src/Protocol/DaemonMessage.ts"
import { encodeAccept, encodeAuthList, encodeRejectByte, sendsPatchByte } from "../../src/Protocol/Handshake.ts"
import { isLittleEndianWord } from "../../src/Protocol/Header.ts"
import {
  allFixtures,
  clientVersionOf,
  d2cItems,
  dataBytes,
  type D2cStep,
  type Fixture,
  fromHex,
  maskHex,
  type MessageDecoded,
  parseHexWord,
  toHex
} from "./vectors.ts"

const fixtures = allFixtures()

type Item = D2cStep & { readonly decoded: MessageDecoded }

const messages = (f: Fixture): Array<Item> =>
  d2cItems(f).filter((s): s is Item => s.decoded.kind === "message")

const causeOf = (type: number): MembershipCause => {
  if (type & CAUSED_BY_JOIN) return "join"
  if (type & CAUSED_BY_LEAVE) return "leave"
  if (type & CAUSED_BY_DISCONNECT) return "disconnect"
  if (type & CAUSED_BY_NETWORK) return "network"
  throw new Error(`no cause in 0x${type.toString(16)}`)
}

/** The daemon-made message for a membership item, or undefined for a data message. */
const encodeMembershipItem = (d: MessageDecoded): Buffer | undefined => {
  const type = parseHexWord(d.type)
  const m = d.membership
  if (type & REG_MEMB_MESS) {
    if (!m || !m.vs_sets || m.local_vs_set_index === undefined) throw new Error("regular membership without a body record")
    return encodeRegularMembership({
      cause: causeOf(type),
      group: d.name,
      members: d.groups,
      groupId: { procId: m.gid[0], time: m.gid[1], index: m.gid[2] },
      vsSets: m.vs_sets,
      localVsSetIndex: m.local_vs_set_index
    })
  }
  if (type & TRANSITION_MESS) {
    if (!m) throw new Error("transition without a gid")
    return encodeTransition(d.name, { procId: m.gid[0], time: m.gid[1], index: m.gid[2] })
  }
  if ((type & REGULAR_MESS) === 0 && (type & CAUSED_BY_LEAVE) !== 0) return encodeSelfLeave(d.name)
  return undefined
}

describe("daemon encoders: handshake replies", () => {
  it("encodeAuthList([\"NULL\"]) is the default list 05 'NULL '", () => {
    expect(toHex(encodeAuthList(["NULL"]))).toBe("054e554c4c20")
  })

  const items = fixtures.flatMap((f) => d2cItems(f).map((s, i) => [`${f.file} ${s.conn} item ${i} ${s.decoded.kind}`, f, s] as const))
  const handshake = items.filter(([, , s]) => s.decoded.kind !== "message")

  it.each(handshake)("%s", (_, f, step) => {
    const d = step.decoded
    switch (d.kind) {
      case "auth_list":
        expect(toHex(encodeAuthList(d.methods))).toBe(step.hex)
        break
      case "accept": {
        // The accept carries the daemon's version, 5.0.1; the patch byte only for clients ≥ 3.15.
        const withPatch = sendsPatchByte(clientVersionOf(f, step.conn))
        const ours = toHex(encodeAccept(SPREAD_VERSION, d.private_group, withPatch))
        expect(maskHex(ours, step.varying)).toBe(maskHex(step.hex, step.varying))
        expect(ours).toBe(step.hex)
        break
      }
      case "reject":
        expect(toHex(encodeRejectByte(d.code))).toBe(step.hex)
        break
      case "message":
        throw new Error("unreachable")
    }
  })

  it("covers the patch-less accept of the 3.14 client", () => {
    const f = fixtures.find((x) => x.file.startsWith("06-"))
    const v314 = f && d2cItems(f).find((s) => s.conn === "v314" && s.decoded.kind === "accept")
    expect(v314?.hex.startsWith("010500")).toBe(true)
    expect(toHex(encodeAccept(SPREAD_VERSION, "#v314#node1", false))).toBe(v314?.hex)
  })
})

describe("daemon encoders: membership messages", () => {
  const cases = fixtures.flatMap((f) =>
    messages(f).flatMap((s, i) => {
      const ours = encodeMembershipItem(s.decoded)
      return ours ? [[`${f.file} ${s.conn} message ${i} ${s.decoded.type}`, s, ours] as const] : []
    })
  )

  it.each(cases)("%s", (_, step, ours) => {
    expect(maskHex(toHex(ours), step.varying)).toBe(maskHex(step.hex, step.varying))
    // Fed the vector's own gid and vs_set order, the encoder reproduces even the varying bytes.
    expect(toHex(ours)).toBe(step.hex)
  })

  it("covers join, leave, disconnect, network, transition and self-leave", () => {
    const types = new Set(fixtures.flatMap((f) => messages(f).map((s) => s.decoded.type)))
    for (const t of ["0x80001180", "0x80001280", "0x80001480", "0x80001880", "0x80002080", "0x80000280"]) expect(types).toContain(t)
    expect(cases.length).toBeGreaterThan(70)
  })
})

describe("daemon delivery of data: a little-endian sender's message reaches receivers unchanged", () => {
  // §11.5: with both sides little-endian the delivered bytes equal what the client wrote, so our
  // client encoder fed the delivered fields reproduces them. A big-endian sender's message (file 30,
  // hint 00 00 07 00) is a relay with rewritten header words, not an encoder output; skipped.
  const cases = fixtures.flatMap((f) =>
    messages(f).flatMap((s, i) => {
      const d = s.decoded
      const hint = fromHex(d.hint_bytes).readUInt32LE(0)
      const isData = (parseHexWord(d.type) & REGULAR_MESS) !== 0
      return isData && isLittleEndianWord(hint) ? [[`${f.file} ${s.conn} message ${i}`, s, d] as const] : []
    })
  )
  it.each(cases)("%s", (_, step, d) => {
    const ours = encodeClientMessage({
      type: (parseHexWord(d.type) & ~ENDIAN_TYPE) >>> 0,
      sender: d.name,
      groups: d.groups,
      messType: d.sp_receive.mess_type,
      data: dataBytes(d.data)
    })
    expect(toHex(ours)).toBe(step.hex)
  })
})
