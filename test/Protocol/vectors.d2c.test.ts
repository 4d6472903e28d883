/**
 * Daemon → client golden vectors (test/fixtures/README.md, "How tests should use the vectors" 2):
 * each `d2c` item decoded as that connection's client would must give its `decoded` fields, whole
 * and fed in odd-sized chunks down to one byte at a time.
 *
 * The big-endian connection (file 30, bob). Our decoder runs on a little-endian host. What we
 * compare for him: the raw header words (type, num_groups, data_len are the daemon's, written
 * little-endian with its flag; `hint` is passed through from the sender byte for byte), and the
 * whole `sp_receive` record: service type, sender, groups, num_groups, return value and mess_type
 * (for membership his own index) are independent of the receiver's byte order. `endian_mismatch`
 * of a data message is relative to the receiver: the vector gives the big-endian client's value,
 * so the view flips ours (valid because every hint in the vectors has both flag bits equal, which
 * we assert). Membership bodies are read in the daemon's order, as a big-endian client does after
 * its swap (§7.1 step 9), so gids and vs_sets compare as they are.
 */
import { describe, expect, it } from "vitest"
import { HEADER_LENGTH } from "../../src/Protocol/Constants.ts"
import { type DaemonMessage, decodeDaemonMessage } from "../../src/Protocol/DaemonMessage.ts"
import { equalGroupIds, type GroupId } from "../../src/Protocol/GroupId.ts"
import { parseAccept, parseAuthList, sendsPatchByte, usesAuthExchange } from "../../src/Protocol/Handshake.ts"
import { readHeader, readHeaderName } from "../../src/Protocol/Header.ts"
import { parsePrivateGroup } from "../../src/Protocol/PrivateGroup.ts"
import {
  allFixtures,
  chunked,
  type ClientItem,
  ClientStream,
  clientVersionOf,
  connectionOf,
  d2cItems,
  dataBytes,
  expectedSpReceive,
  type Fixture,
  fromHex,
  isWellFormedHintFlag,
  itemDigest,
  type MessageDecoded,
  parseHexWord,
  spReceiveView
} from "./vectors.ts"

const fixtures = allFixtures()

const gidOf = (g: readonly [number, number, number]): GroupId => ({ procId: g[0], time: g[1], index: g[2] })

/** Σ(4 + 32·nᵢ) over the sets before `index`: the set's `local_vs_set_offset` (§6.2). */
const setOffset = (sets: ReadonlyArray<ReadonlyArray<string>>, index: number): number =>
  sets.slice(0, index).reduce((n, s) => n + 4 + 32 * s.length, 0)

/** Checks one decoded message against the vector's `decoded` record. */
const checkMessage = (m: DaemonMessage, bytes: Buffer, d: MessageDecoded, receiverDaemon: string): void => {
  // Raw header, as every receiver reads it.
  const h = readHeader(bytes)
  expect(h.swapped).toBe(d.daemon_byte_order === "big")
  expect(h.type).toBe(parseHexWord(d.type))
  expect(h.numGroups).toBe(d.num_groups)
  expect(h.dataLen).toBe(d.data_len)
  expect(bytes.subarray(40, 44).toString("hex")).toBe(d.hint_bytes)
  expect(readHeaderName(bytes)).toBe(d.name)

  // What SP_receive returns to this connection.
  const receiver = d.sp_receive.receiver_byte_order
  if (receiver === "big") expect(isWellFormedHintFlag(h.hint)).toBe(true)
  expect(spReceiveView(m, receiver)).toEqual(expectedSpReceive(d.sp_receive))
  expect(d.sp_receive.return).toBe(h.dataLen)

  const membership = d.membership
  switch (m._tag) {
    case "Data":
      expect(membership).toBeUndefined()
      expect(m.data.equals(dataBytes(d.data))).toBe(true)
      expect(m.data.length).toBe(d.data_len)
      break
    case "Membership": {
      expect(membership).toBeDefined()
      if (!membership) return
      expect(m.groupId).toEqual(gidOf(membership.gid))
      expect(m.vsSets).toEqual(membership.vs_sets)
      expect(m.vsSets.length).toBe(membership.num_vs_sets)
      expect(m.localVsSetIndex).toBe(membership.local_vs_set_index)
      expect(setOffset(m.vsSets, m.localVsSetIndex)).toBe(membership.local_vs_set_offset)
      const info = membership.memb_info
      expect(info).toBeDefined()
      if (!info) return
      // SP_get_memb_info: changed_member is 32 zero bytes for a network change.
      expect(m.changedMember ?? "").toBe(info.changed_member)
      expect(m.vsSets.length).toBe(info.num_vs_sets)
      expect(m.vsSets[m.localVsSetIndex]?.length).toBe(info.my_vs_set.num_members)
      expect(20 + setOffset(m.vsSets, m.localVsSetIndex) + 4).toBe(info.my_vs_set.members_offset)
      // By meaning (the vs_set order varies between runs): the local set holds exactly the members
      // of the receiver's own daemon, and the sets together hold every member once.
      if (m.cause === "network") {
        const daemonOf = (member: string) => parsePrivateGroup(member)?.daemonName
        expect(m.vsSets[m.localVsSetIndex]?.every((x) => daemonOf(x) === receiverDaemon)).toBe(true)
        expect(m.vsSets.flat().sort()).toEqual([...m.members].sort())
      }
      break
    }
    case "Transition":
      expect(membership).toBeDefined()
      if (membership) expect(m.groupId).toEqual(gidOf(membership.gid))
      expect(membership?.vs_sets).toBeUndefined()
      break
    case "SelfLeave":
      expect(membership).toBeUndefined()
      expect(h.dataLen).toBe(0)
      break
    case "Reject":
      throw new Error("the vectors hold no reject message")
  }
}

const stepLabel = (f: Fixture, conn: string, i: number, kind: string): string => `${f.file} ${conn} item ${i} ${kind}`

describe("d2c vectors: each item decoded whole", () => {
  for (const f of fixtures) {
    const items = d2cItems(f)
    const cases = items.map((s, i) => [stepLabel(f, s.conn, i, s.decoded.kind), s] as const)
    it.each(cases)("%s", (_, step) => {
      const bytes = fromHex(step.hex)
      const version = clientVersionOf(f, step.conn)
      const withPatch = sendsPatchByte(version)
      const d = step.decoded
      switch (d.kind) {
        case "auth_list":
          expect(parseAuthList(bytes)).toEqual({ _tag: "AuthList", methods: d.methods, consumed: bytes.length })
          expect(bytes.toString("latin1", 1)).toBe(d.text)
          break
        case "accept": {
          const parsed = parseAccept(bytes, withPatch)
          expect(parsed).toEqual({
            _tag: "Accept",
            version: { major: d.version[0], minor: d.version[1], patch: withPatch ? d.version[2] : 0 },
            privateGroup: d.private_group,
            consumed: bytes.length
          })
          expect(d.version.length).toBe(withPatch ? 3 : 2)
          // Invented names (file 07) vary: check their form, `#` + 1–10 legal characters + `#node1`.
          const parts = parsePrivateGroup(d.private_group)
          expect(parts?.daemonName).toBe(connectionOf(f, step.conn).daemon)
          expect(d.private_group).toBe(connectionOf(f, step.conn).private_group)
          break
        }
        case "reject": {
          expect(bytes.length).toBe(1)
          // A reject arrives in the auth list's place, or (clients without the auth exchange, and
          // after the auth choice) in the accept's place; both parsers read it as a signed byte.
          const first = items.find((s) => s.conn === step.conn) === step && usesAuthExchange(version)
          const parsed = first ? parseAuthList(bytes) : parseAccept(bytes, withPatch)
          expect(parsed).toEqual({ _tag: "Reject", code: d.code })
          break
        }
        case "message": {
          const privateGroup = connectionOf(f, step.conn).private_group
          expect(privateGroup).toBeDefined()
          checkMessage(decodeDaemonMessage(bytes, privateGroup ?? ""), bytes, d, connectionOf(f, step.conn).daemon)
          break
        }
      }
    })
  }
})

describe("d2c vectors: group ids compare by label", () => {
  it.each(fixtures.map((f) => [f.file, f] as const))("%s", (_, f) => {
    const seen: Array<{ label: string; gid: GroupId }> = []
    for (const step of d2cItems(f)) {
      if (step.decoded.kind !== "message" || !step.decoded.membership) continue
      const m = decodeDaemonMessage(fromHex(step.hex), connectionOf(f, step.conn).private_group ?? "")
      if (m._tag !== "Membership" && m._tag !== "Transition") throw new Error(`${m._tag} with a membership record`)
      const label = step.decoded.membership.gid_label
      for (const other of seen) expect(equalGroupIds(m.groupId, other.gid)).toBe(label === other.label)
      seen.push({ label, gid: m.groupId })
    }
  })
})

// ---------------------------------------------------------------------------------------------
// The whole per-connection stream, in chunks.

const connectionsWithBytes = (f: Fixture): Array<string> => [...new Set(d2cItems(f).map((s) => s.conn))]

const streamOf = (f: Fixture, conn: string): Array<Buffer> =>
  d2cItems(f).filter((s) => s.conn === conn).map((s) => fromHex(s.hex))

const readStream = (f: Fixture, conn: string, chunks: Iterable<Buffer>): ClientStream => {
  const reader = new ClientStream(clientVersionOf(f, conn))
  for (const c of chunks) reader.push(c)
  return reader
}

/** The kind each item of a ClientStream corresponds to in the vector. */
const itemKind = (item: ClientItem): string =>
  item.kind === "message" ? "message" : item.parse._tag === "Reject" ? "reject" : item.kind

const CHUNKINGS: ReadonlyArray<readonly [string, ReadonlyArray<number>]> = [
  ["1 byte at a time", [1]],
  ["2-byte chunks", [2]],
  ["3, 5, 7, 11", [3, 5, 7, 11]],
  ["13-byte chunks", [13]],
  ["47 then 49", [47, 49]],
  ["1000-byte chunks", [1000]]
]

describe("d2c vectors: the connection's stream through ByteQueue framing", () => {
  const cases = fixtures.flatMap((f) => connectionsWithBytes(f).map((conn) => [`${f.file} ${conn}`, f, conn] as const))

  it.each(cases)("%s: item by item gives the vector's items", (_, f, conn) => {
    const items = d2cItems(f).filter((s) => s.conn === conn)
    const reader = readStream(f, conn, streamOf(f, conn))
    expect(reader.pending).toBe(0)
    expect(reader.items.map(itemKind)).toEqual(items.map((s) => s.decoded.kind))
    reader.items.forEach((item, i) => {
      const d = items[i]!.decoded
      if (item.kind === "message" && d.kind === "message") checkMessage(item.message, item.bytes, d, connectionOf(f, conn).daemon)
    })
  })

  for (const [name, sizes] of CHUNKINGS) {
    it.each(cases)(`%s: ${name}`, (_, f, conn) => {
      const whole = Buffer.concat(streamOf(f, conn))
      const expected = readStream(f, conn, streamOf(f, conn)).items.map(itemDigest)
      const reader = readStream(f, conn, chunked(whole, sizes))
      expect(reader.pending).toBe(0)
      expect(reader.items.map(itemDigest)).toEqual(expected)
    })
  }
})

describe("d2c vectors: coverage", () => {
  it("holds every message kind the decoder distinguishes except reject, and both receiver byte orders", () => {
    const kinds = new Set<string>()
    const receivers = new Set<string>()
    for (const f of fixtures) {
      for (const s of d2cItems(f)) {
        if (s.decoded.kind !== "message") continue
        kinds.add(decodeDaemonMessage(fromHex(s.hex), connectionOf(f, s.conn).private_group ?? "")._tag)
        receivers.add(s.decoded.sp_receive.receiver_byte_order)
      }
    }
    expect([...kinds].sort()).toEqual(["Data", "Membership", "SelfLeave", "Transition"])
    expect([...receivers].sort()).toEqual(["big", "little"])
  })

  it("frames at least one message larger than a header split over many chunks", () => {
    const f = fixtures.find((x) => x.file.startsWith("18-"))
    expect(f).toBeDefined()
    if (!f) return
    const big = d2cItems(f).find((s) => s.hex.length > 2 * 100_000)
    expect(big).toBeDefined()
    expect(fromHex(big?.hex ?? "").length).toBeGreaterThan(HEADER_LENGTH + 100_000)
  })
})
