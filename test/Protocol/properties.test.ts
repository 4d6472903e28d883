/**
 * Property tests (fast-check): encode/decode round trips for both byte orders, and robustness:
 * arbitrary or crafted bytes given to the decoders and parsers may only ever raise ProtocolError.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { readGroupNames } from "../../src/Protocol/Bytes.ts"
import { encodeClientMessage, encodeJoin, encodeKill, encodeLeave, type OutgoingMessage } from "../../src/Protocol/ClientMessage.ts"
import {
  AGREED_MESS,
  CAUSED_BY_DISCONNECT,
  CAUSED_BY_JOIN,
  CAUSED_BY_LEAVE,
  CAUSED_BY_NETWORK,
  ENDIAN_TYPE,
  HEADER_LENGTH,
  JOIN_MESS,
  KILL_MESS,
  LEAVE_MESS,
  REG_MEMB_MESS,
  REGULAR_MESS,
  REJECT_MESS,
  SELF_DISCARD,
  TRANSITION_MESS
} from "../../src/Protocol/Constants.ts"
import {
  type DaemonMessage,
  decodeDaemonMessage,
  encodeRegularMembership,
  encodeRejectMessage,
  encodeSelfLeave,
  encodeTransition,
  type MembershipCause,
  type RegularMembership
} from "../../src/Protocol/DaemonMessage.ts"
import type { GroupId } from "../../src/Protocol/GroupId.ts"
import {
  encodeAccept,
  encodeAuthChoice,
  encodeAuthList,
  encodeConnect,
  encodeRejectByte,
  parseAccept,
  parseAuthChoice,
  parseAuthList,
  parseConnect,
  sendsPatchByte,
  type Version
} from "../../src/Protocol/Handshake.ts"
import { type ByteOrder, decodeHint, isLittleEndianWord, readHeader, readHeaderName } from "../../src/Protocol/Header.ts"
import { ProtocolError } from "../../src/Protocol/ProtocolError.ts"
import { chunked, frameMessages } from "./vectors.ts"

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const charFrom = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c))
/** A name field's content: 1..31 bytes, none NUL (latin1 keeps every byte). */
const nameArb = fc.string({ unit: charFrom(1, 255), minLength: 1, maxLength: 31 })
const legalNameArb = (maxLength: number, minLength = 0) => fc.string({ unit: charFrom(0x24, 0x7e), minLength, maxLength })
const int32Arb = fc.integer({ min: -0x80000000, max: 0x7fffffff })
const messTypeArb = fc.integer({ min: -32768, max: 32767 })
const byteOrderArb = fc.constantFrom<ByteOrder>("little", "big")
const dataArb = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a))
const gidArb: fc.Arbitrary<GroupId> = fc.record({ procId: int32Arb, time: int32Arb, index: int32Arb })
const serviceArb = fc
  .tuple(fc.constantFrom(0x01, 0x02, 0x04, 0x08, 0x10, 0x20), fc.boolean())
  .map(([s, discard]) => (discard ? s | SELF_DISCARD : s))
const clientTypeArb = fc.oneof(serviceArb, fc.constantFrom(JOIN_MESS, LEAVE_MESS, KILL_MESS))

const outgoingArb = (type: fc.Arbitrary<number>): fc.Arbitrary<OutgoingMessage & { readonly byteOrder: ByteOrder }> =>
  fc.record({
    type,
    sender: nameArb,
    groups: fc.array(nameArb, { maxLength: 5 }),
    messType: messTypeArb,
    data: dataArb,
    byteOrder: byteOrderArb
  })

const causeBit: Record<MembershipCause, number> = {
  join: CAUSED_BY_JOIN,
  leave: CAUSED_BY_LEAVE,
  disconnect: CAUSED_BY_DISCONNECT,
  network: CAUSED_BY_NETWORK
}

const membershipArb: fc.Arbitrary<RegularMembership> = fc
  .record({
    cause: fc.constantFrom<MembershipCause>("join", "leave", "disconnect", "network"),
    group: nameArb,
    members: fc.array(nameArb, { maxLength: 6 }),
    groupId: gidArb,
    vsSets: fc.array(fc.array(nameArb, { maxLength: 4 }), { minLength: 1, maxLength: 4 })
  })
  .chain((m) => fc.integer({ min: 0, max: m.vsSets.length - 1 }).map((localVsSetIndex) => ({ ...m, localVsSetIndex })))

/** Never throws anything but ProtocolError. */
const onlyProtocolErrors = (f: () => unknown): void => {
  try {
    f()
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e
  }
}

// ---------------------------------------------------------------------------------------------
// Byte-order rewrites a daemon performs (§4.2), for building inputs.

/** What a little-endian daemon delivers for a client's message: type/num_groups/data_len rewritten. */
const relayByLittleEndianDaemon = (clientBytes: Buffer): Buffer => {
  const h = readHeader(clientBytes)
  const out = Buffer.from(clientBytes)
  out.writeUInt32LE((h.type | ENDIAN_TYPE) >>> 0, 0)
  out.writeInt32LE(h.numGroups, 36)
  out.writeInt32LE(h.dataLen, 44)
  return out
}

const swapWordAt = (buf: Buffer, offset: number): void => {
  buf.writeUInt32BE(buf.readUInt32LE(offset), offset)
}

/**
 * The same message as a big-endian daemon writes it: header words and flag in its order, and the
 * integers of a regular membership body, a transitional gid and a reject's old_type swapped too.
 * The hint and the names stay as they are (passed through from the sender).
 */
const asBigEndianDaemon = (le: Buffer): Buffer => {
  const h = readHeader(le)
  const out = Buffer.from(le)
  out.writeUInt32BE((h.type & ~ENDIAN_TYPE) >>> 0, 0)
  swapWordAt(out, 36)
  swapWordAt(out, 44)
  const reject = (h.type & REJECT_MESS) !== 0
  if (reject) out.writeUInt32BE((out.readUInt32LE(HEADER_LENGTH) & ~ENDIAN_TYPE) >>> 0, HEADER_LENGTH)
  const body = HEADER_LENGTH + (reject ? 4 : 0) + 32 * h.numGroups
  if (!reject && (h.type & REGULAR_MESS) === 0 && (h.type & REG_MEMB_MESS) !== 0) {
    const numVsSets = le.readInt32LE(body + 12)
    for (let w = 0; w < 5; w++) swapWordAt(out, body + 4 * w)
    let pos = body + 20
    for (let i = 0; i < numVsSets; i++) {
      const n = le.readInt32LE(pos)
      swapWordAt(out, pos)
      pos += 4 + 32 * n
    }
  } else if ((h.type & REGULAR_MESS) === 0 && (h.type & TRANSITION_MESS) !== 0) {
    for (let w = 0; w < 3; w++) swapWordAt(out, body + 4 * w)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Client → daemon.

describe("client messages round-trip through readHeader and the field reads (both byte orders)", () => {
  it("encodeClientMessage", () => {
    fc.assert(
      fc.property(outgoingArb(clientTypeArb), (m) => {
        const buf = encodeClientMessage(m)
        expect(buf.length).toBe(HEADER_LENGTH + 32 * m.groups.length + m.data.length)
        const h = readHeader(buf)
        expect(h.swapped).toBe(m.byteOrder === "big")
        expect(isLittleEndianWord(h.type)).toBe(m.byteOrder === "little")
        expect((h.type & ~ENDIAN_TYPE) >>> 0).toBe(m.type)
        expect(h.numGroups).toBe(m.groups.length)
        expect(h.dataLen).toBe(m.data.length)
        expect(decodeHint(h.hint)).toEqual({ messType: m.messType, endianMismatch: m.byteOrder === "big" })
        expect(readHeaderName(buf)).toBe(m.sender)
        expect(readGroupNames(buf, HEADER_LENGTH, h.numGroups)).toEqual(m.groups)
        expect(buf.subarray(HEADER_LENGTH + 32 * h.numGroups)).toEqual(m.data)
      })
    )
  })

  it("encodeJoin / encodeLeave / encodeKill are client messages with one group and mess_type 0", () => {
    fc.assert(
      fc.property(nameArb, nameArb, byteOrderArb, (sender, group, byteOrder) => {
        const empty = Buffer.alloc(0)
        expect(encodeJoin(sender, group, byteOrder)).toEqual(
          encodeClientMessage({ type: JOIN_MESS, sender, groups: [group], messType: 0, data: empty, byteOrder })
        )
        expect(encodeLeave(sender, group, byteOrder)).toEqual(
          encodeClientMessage({ type: LEAVE_MESS, sender, groups: [group], messType: 0, data: empty, byteOrder })
        )
        expect(encodeKill(sender, byteOrder)).toEqual(
          encodeClientMessage({ type: KILL_MESS, sender, groups: [sender], messType: 0, data: empty, byteOrder })
        )
        expect(encodeJoin(sender, group)).toEqual(encodeJoin(sender, group, "little"))
      })
    )
  })

  it("a data message delivered by a little-endian daemon decodes to what was sent", () => {
    fc.assert(
      fc.property(outgoingArb(serviceArb), fc.boolean(), (m, bigDaemon) => {
        const delivered = relayByLittleEndianDaemon(encodeClientMessage(m))
        if (m.byteOrder === "little") expect(delivered).toEqual(encodeClientMessage(m))
        const expected: DaemonMessage = {
          _tag: "Data",
          serviceType: m.type,
          sender: m.sender,
          groups: m.groups,
          messType: m.messType,
          endianMismatch: m.byteOrder === "big",
          data: Buffer.from(m.data)
        }
        expect(decodeDaemonMessage(delivered, "#me#node1")).toEqual(expected)
        if (bigDaemon) expect(decodeDaemonMessage(asBigEndianDaemon(delivered), "#me#node1")).toEqual(expected)
      })
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Daemon → client.

describe("daemon messages round-trip through decodeDaemonMessage (both daemon byte orders)", () => {
  const decodeBoth = (buf: Buffer, privateGroup: string): DaemonMessage => {
    const le = decodeDaemonMessage(buf, privateGroup)
    expect(decodeDaemonMessage(asBigEndianDaemon(buf), privateGroup)).toEqual(le)
    return le
  }

  it("regular membership", () => {
    fc.assert(
      fc.property(membershipArb, fc.nat(8), (m, pick) => {
        const me = m.members[pick] ?? "#nobody#node1"
        const buf = encodeRegularMembership(m)
        const bodyLength = m.vsSets.reduce((n, s) => n + 4 + 32 * s.length, 20)
        expect(buf.length).toBe(HEADER_LENGTH + 32 * m.members.length + bodyLength)
        expect(readHeader(buf).dataLen).toBe(bodyLength)
        expect(decodeBoth(buf, me)).toEqual({
          _tag: "Membership",
          serviceType: REG_MEMB_MESS | causeBit[m.cause],
          cause: m.cause,
          group: m.group,
          members: m.members,
          groupId: m.groupId,
          vsSets: m.vsSets,
          localVsSetIndex: m.localVsSetIndex,
          changedMember: m.cause === "network" ? undefined : m.vsSets[0]![0],
          myIndex: m.members.indexOf(me)
        })
      })
    )
  })

  it("transitional membership", () => {
    fc.assert(
      fc.property(nameArb, gidArb, (group, groupId) => {
        const buf = encodeTransition(group, groupId)
        expect(buf.length).toBe(60)
        expect(decodeBoth(buf, "#me#node1")).toEqual({ _tag: "Transition", serviceType: TRANSITION_MESS, group, groupId })
      })
    )
  })

  it("self-leave", () => {
    fc.assert(
      fc.property(nameArb, (group) => {
        const buf = encodeSelfLeave(group)
        expect(buf.length).toBe(48)
        expect(decodeBoth(buf, "#me#node1")).toEqual({ _tag: "SelfLeave", serviceType: CAUSED_BY_LEAVE, group })
      })
    )
  })

  it("reject", () => {
    const oldTypeArb = fc.oneof(serviceArb, fc.constantFrom(CAUSED_BY_JOIN, CAUSED_BY_LEAVE))
    fc.assert(
      fc.property(outgoingArb(serviceArb), oldTypeArb, fc.integer({ min: 1, max: 8 }), (m, oldType, maxGroups) => {
        const original = { type: m.type, sender: m.sender, groups: m.groups, hint: 0x80000080 | ((m.messType << 8) & 0xffff00), data: m.data }
        const buf = encodeRejectMessage(original, oldType, maxGroups)
        const groups = m.groups.length >= maxGroups ? [...m.groups.slice(0, maxGroups - 1), m.sender] : [...m.groups, m.sender]
        expect(decodeBoth(buf, "#me#node1")).toEqual({
          _tag: "Reject",
          serviceType: oldType | REJECT_MESS,
          sender: m.sender,
          groups,
          messType: m.messType,
          endianMismatch: false,
          data: Buffer.from(m.data)
        })
      })
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Handshake.

const versionNumber = (v: Version): number => v.major * 10000 + v.minor * 100 + v.patch
const byteArb = fc.integer({ min: 0, max: 127 })
const versionArb: fc.Arbitrary<Version> = fc.record({ major: byteArb, minor: byteArb, patch: byteArb })
/** What the daemon reads of `v`: no patch byte from clients up to 3.14. */
const asSent = (v: Version): Version => (sendsPatchByte(v) ? v : { ...v, patch: 0 })

describe("handshake pieces round-trip", () => {
  it("connect message (A): parse(encode(c)) = c, strict prefixes need more, trailing bytes are left", () => {
    fc.assert(
      fc.property(
        versionArb.filter((v) => versionNumber(asSent(v)) >= 30100),
        fc.boolean(),
        fc.integer({ min: 0, max: 15 }),
        legalNameArb(10),
        (version, groupMembership, priority, name) => {
          const buf = encodeConnect({ version, groupMembership, priority, name })
          expect(buf.length).toBe((sendsPatchByte(version) ? 5 : 4) + name.length)
          const expected = {
            _tag: "Connect",
            connect: { version: asSent(version), groupMembership, priority: priority >= 1 ? 1 : 0, name },
            consumed: buf.length
          }
          expect(parseConnect(buf)).toEqual(expected)
          expect(parseConnect(Buffer.concat([buf, encodeAuthChoice(["NULL"])]))).toEqual(expected)
          for (let n = 0; n < buf.length; n++) expect(parseConnect(buf.subarray(0, n))).toEqual({ _tag: "Need" })
        }
      )
    )
  })

  it("connect message (A): versions below 3.1.0 are rejected once the version is known", () => {
    fc.assert(
      fc.property(versionArb.filter((v) => versionNumber(asSent(v)) < 30100), legalNameArb(10), (version, name) => {
        const buf = encodeConnect({ version, groupMembership: true, priority: 0, name })
        expect(parseConnect(buf)).toEqual({ _tag: "Reject", code: -7 })
        expect(parseConnect(buf.subarray(0, 2))).toEqual({ _tag: "Reject", code: -7 })
      })
    )
  })

  it("connect message (A): long names are truncated to 10 bytes", () => {
    fc.assert(
      fc.property(legalNameArb(30, 11), (name) => {
        const parsed = parseConnect(encodeConnect({ version: { major: 5, minor: 0, patch: 1 }, groupMembership: false, priority: 0, name }))
        expect(parsed._tag === "Connect" && parsed.connect.name).toBe(name.slice(0, 10))
      })
    )
  })

  it("auth list (B)", () => {
    const methodArb = fc.string({ unit: charFrom(0x21, 0x7e), minLength: 1, maxLength: 20 })
    fc.assert(
      fc.property(fc.array(methodArb, { maxLength: 4 }), (methods) => {
        const buf = encodeAuthList(methods)
        expect(buf[0]).toBe(buf.length - 1)
        expect(parseAuthList(buf)).toEqual({ _tag: "AuthList", methods, consumed: buf.length })
        for (let n = 0; n < buf.length; n++) expect(parseAuthList(buf.subarray(0, n))).toEqual({ _tag: "Need" })
      })
    )
  })

  it("auth choice (C)", () => {
    const methodArb = fc.string({ unit: charFrom(1, 255), minLength: 1, maxLength: 30 })
    fc.assert(
      fc.property(fc.array(methodArb, { maxLength: 3 }), (methods) => {
        const buf = encodeAuthChoice(methods)
        expect(buf.length).toBe(90)
        expect(parseAuthChoice(buf)).toEqual({ _tag: "AuthChoice", methods, consumed: 90 })
        expect(parseAuthChoice(buf.subarray(0, 89))).toEqual({ _tag: "Need" })
      })
    )
  })

  it("accept (E), with and without the patch byte", () => {
    fc.assert(
      fc.property(
        versionArb.filter((v) => v.major >= 3),
        legalNameArb(31, 1),
        fc.boolean(),
        (daemon, privateGroup, withPatch) => {
          const buf = encodeAccept(daemon, privateGroup, withPatch)
          expect(buf.length).toBe((withPatch ? 5 : 4) + privateGroup.length)
          expect(parseAccept(buf, withPatch)).toEqual({
            _tag: "Accept",
            version: withPatch ? daemon : { ...daemon, patch: 0 },
            privateGroup,
            consumed: buf.length
          })
          for (let n = 0; n < buf.length; n++) expect(parseAccept(buf.subarray(0, n), withPatch)).toEqual({ _tag: "Need" })
        }
      )
    )
  })

  it("a reject byte reads back as its signed code in place of the auth list or the accept", () => {
    fc.assert(
      fc.property(fc.integer({ min: -128, max: -1 }), fc.boolean(), (code, withPatch) => {
        const buf = encodeRejectByte(code)
        expect(buf.length).toBe(1)
        expect(parseAuthList(buf)).toEqual({ _tag: "Reject", code })
        expect(parseAccept(buf, withPatch)).toEqual({ _tag: "Reject", code })
      })
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Framing.

const daemonMessageArb: fc.Arbitrary<Buffer> = fc.oneof(
  membershipArb.map(encodeRegularMembership),
  fc.tuple(nameArb, gidArb).map(([g, gid]) => encodeTransition(g, gid)),
  nameArb.map(encodeSelfLeave),
  outgoingArb(serviceArb).map((m) => relayByLittleEndianDaemon(encodeClientMessage(m)))
)

const chunkSizesArb = fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 })

describe("ByteQueue framing", () => {
  it("any chunking of a message stream frames the same messages", () => {
    fc.assert(
      fc.property(fc.array(daemonMessageArb, { maxLength: 6 }), chunkSizesArb, (messages, sizes) => {
        const expected = messages.map((m) => decodeDaemonMessage(m, "#me#node1"))
        expect(frameMessages(chunked(Buffer.concat(messages), sizes), "#me#node1")).toEqual(expected)
        expect(frameMessages(messages, "#me#node1")).toEqual(expected)
      })
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Robustness: only ProtocolError, whatever the bytes.

const bytesArb = fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a))

const interestingTypes = [
  REG_MEMB_MESS | CAUSED_BY_JOIN,
  REG_MEMB_MESS | CAUSED_BY_NETWORK,
  REG_MEMB_MESS,
  TRANSITION_MESS,
  REG_MEMB_MESS | TRANSITION_MESS,
  CAUSED_BY_LEAVE,
  CAUSED_BY_JOIN,
  AGREED_MESS,
  REJECT_MESS | AGREED_MESS,
  REJECT_MESS,
  REJECT_MESS | REG_MEMB_MESS | CAUSED_BY_JOIN,
  0
]

/** A membership-shaped body with small, often inconsistent, counts. */
const membershipBodyArb: fc.Arbitrary<Buffer> = fc
  .record({
    gid: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    numVsSets: fc.oneof({ arbitrary: fc.integer({ min: -1, max: 5 }), weight: 5 }, { arbitrary: int32Arb, weight: 1 }),
    localOffset: fc.oneof(fc.constantFrom(0, 4, 36, 68), fc.integer({ min: -8, max: 300 }), int32Arb),
    sets: fc.array(
      fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 3 }).chain((n) => fc.tuple(fc.constant(n), fc.uint8Array({ minLength: 32 * n, maxLength: 32 * n }))), weight: 4 },
        { arbitrary: fc.tuple(fc.oneof(fc.integer({ min: -2, max: 4 }), int32Arb), fc.uint8Array({ maxLength: 140 })), weight: 1 }
      ),
      { maxLength: 5 }
    ),
    tail: fc.uint8Array({ maxLength: 8 })
  })
  .map(({ gid, numVsSets, localOffset, sets, tail }) => {
    const words = (...xs: Array<number>) => {
      const b = Buffer.alloc(4 * xs.length)
      xs.forEach((x, i) => b.writeInt32LE(x, 4 * i))
      return b
    }
    return Buffer.concat([Buffer.from(gid), words(numVsSets, localOffset), ...sets.flatMap(([n, names]) => [words(n), Buffer.from(names)]), Buffer.from(tail)])
  })

/** 0 most of the time, so that the other fields get to matter. */
const mostlyZero = (other: fc.Arbitrary<number>): fc.Arbitrary<number> =>
  fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: other, weight: 1 })

/** A message with a plausible header and body whose counts may or may not agree. */
const craftedDaemonMessageArb: fc.Arbitrary<Buffer> = fc
  .record({
    type: fc.oneof({ arbitrary: fc.constantFrom(...interestingTypes), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 0xffffffff }), weight: 1 }),
    order: byteOrderArb,
    groups: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 3 }),
    numGroupsDelta: mostlyZero(fc.oneof(fc.integer({ min: -4, max: 4 }), int32Arb)),
    hint: fc.integer({ min: 0, max: 0xffffffff }),
    oldType: fc.integer({ min: 0, max: 0xffffffff }),
    body: fc.oneof({ arbitrary: membershipBodyArb, weight: 3 }, { arbitrary: bytesArb, weight: 1 }),
    dataLenDelta: mostlyZero(fc.oneof(fc.integer({ min: -16, max: 16 }), int32Arb)),
    cut: mostlyZero(fc.integer({ min: -8, max: 8 }))
  })
  .map((r) => {
    const header = Buffer.alloc(HEADER_LENGTH)
    const big = r.order === "big"
    const type = big ? (r.type & ~ENDIAN_TYPE) >>> 0 : (r.type | ENDIAN_TYPE) >>> 0
    const numGroups = (r.groups.length + r.numGroupsDelta) | 0
    const dataLen = (r.body.length + r.dataLenDelta) | 0
    if (big) {
      header.writeUInt32BE(type, 0)
      header.writeInt32BE(numGroups, 36)
      header.writeInt32BE(dataLen, 44)
    } else {
      header.writeUInt32LE(type, 0)
      header.writeInt32LE(numGroups, 36)
      header.writeInt32LE(dataLen, 44)
    }
    header.writeUInt32LE(r.hint, 40)
    const old = Buffer.alloc((type & REJECT_MESS) !== 0 ? 4 : 0)
    if (old.length > 0) old.writeUInt32LE(r.oldType, 0)
    const whole = Buffer.concat([header, old, ...r.groups.map((g) => Buffer.from(g)), r.body])
    return r.cut >= 0 ? Buffer.concat([whole, Buffer.alloc(r.cut)]) : whole.subarray(0, whole.length + r.cut)
  })

const privateGroupArb = fc.oneof(fc.constant("#me#node1"), nameArb)

describe("robustness: only ProtocolError on malformed input", () => {
  it("decodeDaemonMessage on arbitrary bytes", () => {
    fc.assert(fc.property(bytesArb, privateGroupArb, (buf, me) => onlyProtocolErrors(() => decodeDaemonMessage(buf, me))))
  })

  it("decodeDaemonMessage on crafted headers and membership bodies", () => {
    fc.assert(
      fc.property(craftedDaemonMessageArb, privateGroupArb, (buf, me) => onlyProtocolErrors(() => decodeDaemonMessage(buf, me))),
      { numRuns: 2000 }
    )
  })

  it("decodeDaemonMessage on valid messages with corrupted words", () => {
    fc.assert(
      fc.property(daemonMessageArb, fc.array(fc.tuple(fc.nat(), int32Arb), { minLength: 1, maxLength: 3 }), (msg, edits) => {
        const buf = Buffer.from(msg)
        for (const [at, value] of edits) {
          const offset = at % Math.max(1, buf.length - 3)
          if (offset + 4 <= buf.length) buf.writeInt32LE(value, offset)
        }
        onlyProtocolErrors(() => decodeDaemonMessage(buf, "#me#node1"))
      }),
      { numRuns: 1000 }
    )
  })

  it("handshake parsers on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)), fc.boolean(), (buf, withPatch) => {
        onlyProtocolErrors(() => {
          const c = parseConnect(buf)
          if (c._tag === "Connect") expect(c.consumed).toBeLessThanOrEqual(buf.length)
        })
        onlyProtocolErrors(() => {
          const l = parseAuthList(buf)
          if (l._tag === "AuthList") expect(l.consumed).toBeLessThanOrEqual(buf.length)
        })
        onlyProtocolErrors(() => {
          const a = parseAccept(buf, withPatch)
          if (a._tag === "Accept") expect(a.consumed).toBeLessThanOrEqual(buf.length)
        })
        onlyProtocolErrors(() => {
          const c = parseAuthChoice(buf)
          if (c._tag === "AuthChoice") expect(c.consumed).toBe(90)
        })
      }),
      { numRuns: 1000 }
    )
  })

  it("parseConnect on connect-shaped bytes", () => {
    const connectish = fc
      .tuple(fc.uint8Array({ minLength: 2, maxLength: 3 }), fc.nat(255), fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 14 }))
      .map(([version, flags, length, name]) => Buffer.concat([Buffer.from(version), Buffer.from([flags, length & 0xff]), Buffer.from(name)]))
    fc.assert(
      fc.property(connectish, (buf) =>
        onlyProtocolErrors(() => {
          const c = parseConnect(buf)
          if (c._tag === "Connect") {
            expect(c.connect.name.length).toBeLessThanOrEqual(10)
            expect([...Buffer.from(c.connect.name, "latin1")].every((b) => b >= 0x24 && b <= 0x7e)).toBe(true)
          }
        })
      ),
      { numRuns: 1000 }
    )
  })

  it("ByteQueue framing of arbitrary and crafted streams", () => {
    const streamArb = fc.oneof(bytesArb, fc.array(craftedDaemonMessageArb, { maxLength: 4 }).map((ms) => Buffer.concat(ms)))
    fc.assert(
      fc.property(streamArb, chunkSizesArb, (stream, sizes) =>
        onlyProtocolErrors(() => frameMessages(chunked(stream, sizes), "#me#node1"))
      ),
      { numRuns: 1000 }
    )
  })

  it("ProtocolError is what malformed input raises", () => {
    expect(() => decodeDaemonMessage(Buffer.alloc(47), "#me#node1")).toThrow(ProtocolError)
    const negative = Buffer.alloc(48)
    negative.writeUInt32LE((AGREED_MESS | ENDIAN_TYPE) >>> 0, 0)
    negative.writeInt32LE(-1, 44)
    expect(() => decodeDaemonMessage(negative, "#me#node1")).toThrow(ProtocolError)
    expect(() => parseAuthList(Buffer.from([91]))).toThrow(ProtocolError)
    expect(() => parseAccept(Buffer.from([1, 5, 0, 1, 32]), true)).toThrow(ProtocolError)
  })
})
