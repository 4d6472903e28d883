/**
 * Vector 40 (test/fixtures/40-two-daemon-partition-merge.json) replayed through two simulated
 * group layers: what real Spread 5.0.1 clients saw on a 2-daemon partition and merge must be what
 * our GroupTables send, byte for byte outside the group ids, and the group ids must be equal
 * exactly where the vector's labels are.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { HEADER_LENGTH, MAX_GROUP_NAME, REG_MEMB_MESS, TRANSITION_MESS } from "../../src/Protocol/Constants.ts"
import { exchange, installReg, installTrans, join, kill, NODE1, NODE2, reg, SimDaemon, trans } from "./harness.ts"

interface Step {
  readonly phase: string
  readonly dir: string
  readonly conn: string
  readonly hex?: string
  readonly decoded?: {
    readonly kind: string
    readonly type?: string
    readonly num_groups?: number
    readonly membership?: { readonly gid_label: string }
  }
}

const vector = JSON.parse(
  readFileSync(fileURLToPath(new URL("../fixtures/40-two-daemon-partition-merge.json", import.meta.url)), "utf8")
) as { readonly steps: ReadonlyArray<Step> }

/** The membership notices (views and transitional signals) one connection received, in order. */
const notices = (conn: string): Array<{ readonly bytes: Buffer; readonly label: string }> =>
  vector.steps
    .filter((s) => s.dir === "d2c" && s.conn === conn && s.decoded?.membership !== undefined)
    .map((s) => ({ bytes: Buffer.from(s.hex!, "hex"), label: s.decoded!.membership!.gid_label }))

/** Where the 12 gid bytes are (client-protocol §6.3, §6.4). */
const gidOffset = (bytes: Buffer): number => {
  const type = bytes.readUInt32LE(0)
  if ((type & TRANSITION_MESS) !== 0) return HEADER_LENGTH
  if ((type & REG_MEMB_MESS) !== 0) return HEADER_LENGTH + MAX_GROUP_NAME * bytes.readInt32LE(36)
  throw new Error(`not a membership notice: 0x${type.toString(16)}`)
}

const masked = (bytes: Buffer): string => {
  const copy = Buffer.from(bytes)
  copy.fill(0, gidOffset(copy), gidOffset(copy) + 12)
  return copy.toString("hex")
}
const gidHex = (bytes: Buffer): string => bytes.subarray(gidOffset(bytes), gidOffset(bytes) + 12).toString("hex")

describe("vector 40: two-daemon partition and merge", () => {
  it("sends every client exactly the notices Spread 5.0.1 sent, with gids equal where the labels are", () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    const both = [n1, n2]
    installReg(both, reg(2, NODE1), [NODE1, NODE2])
    const alice = n1.connect("alice")
    const bob = n2.connect("bob")
    const carol = n1.connect("carol")
    const got = new Map<string, Array<Buffer>>([["alice", []], ["bob", []], ["carol", []]])
    const collect = (): void => {
      got.get("alice")!.push(...n1.takeBytes(alice))
      got.get("carol")!.push(...n1.takeBytes(carol))
      got.get("bob")!.push(...n2.takeBytes(bob))
    }
    // setup: the joins, ordered in the ring of both daemons.
    join(both, alice, "chat")
    join(both, bob, "chat")
    join(both, carol, "chat")
    collect()

    // scenario, partition: node2 is frozen; node1 forms a ring alone (departures only).
    installTrans([n1], trans(3, NODE1), [NODE1])
    installReg([n1], reg(4, NODE1), [NODE1])
    expect(n1.table.gstate).toBe("GOP")
    expect(n1.events).toEqual(["resume", "resume"])
    for (const member of [alice, carol]) {
      const [signal, view, ...rest] = n1.take(member)
      expect(rest).toEqual([])
      expect(signal).toMatchObject({ _tag: "Transition", group: "chat", groupId: { procId: NODE1 | 0, time: 2, index: 3 } })
      expect(view).toMatchObject({
        _tag: "Membership",
        cause: "network",
        members: ["#alice#node1", "#carol#node1"],
        vsSets: [["#alice#node1", "#carol#node1"]],
        localVsSetIndex: 0,
        groupId: { procId: NODE1 | 0, time: 4, index: 1 }
      })
    }
    n1.table.installTransitional(trans(5, NODE1), [NODE1])
    expect(n1.take(alice)).toEqual([]) // chat lost nothing at node1: no TRANSITION_MESS
    installTrans([n2], trans(5, NODE2), [NODE2])
    installReg(both, reg(6, NODE1), [NODE1, NODE2])
    expect(n1.table.gstate).toBe("GGATHER")
    expect(n2.table.gstate).toBe("GGATHER")
    expect(n1.events.slice(-2)).toEqual(["pause", "submit"])
    expect(n2.events.slice(-2)).toEqual(["pause", "submit"])
    exchange([n1, n2], both)
    expect(n1.table.gstate).toBe("GOP")
    expect(n2.table.gstate).toBe("GOP")
    expect(n1.events.at(-1)).toBe("resume")
    expect(n2.events.at(-1)).toBe("resume")
    expect(n1.table.syncedSet).toEqual([NODE1, NODE2])
    expect(n2.table.syncedSet).toEqual([NODE1, NODE2])
    expect(n1.table.snapshot()).toEqual(n2.table.snapshot())
    const mergeAlice = n1.take(alice)
    const mergeBob = n2.take(bob)
    expect(mergeAlice).toMatchObject([{
      cause: "network",
      members: ["#alice#node1", "#carol#node1", "#bob#node2"],
      vsSets: [["#bob#node2"], ["#alice#node1", "#carol#node1"]],
      localVsSetIndex: 1,
      groupId: { procId: NODE1 | 0, time: 6, index: 1 }
    }])
    expect(mergeBob).toMatchObject([
      { _tag: "Transition", groupId: { procId: NODE1 | 0, time: 2, index: 3 } },
      { cause: "network", vsSets: [["#bob#node2"], ["#alice#node1", "#carol#node1"]], localVsSetIndex: 0,
        groupId: { procId: NODE1 | 0, time: 6, index: 1 } }
    ])
    n1.take(carol)
  })

  it("replays byte for byte outside the gids", () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    const both = [n1, n2]
    installReg(both, reg(2, NODE1), [NODE1, NODE2])
    const alice = n1.connect("alice")
    const bob = n2.connect("bob")
    const carol = n1.connect("carol")
    join(both, alice, "chat")
    join(both, bob, "chat")
    join(both, carol, "chat")
    installTrans([n1], trans(3, NODE1), [NODE1])
    installReg([n1], reg(4, NODE1), [NODE1])
    installTrans([n1], trans(5, NODE1), [NODE1])
    installTrans([n2], trans(5, NODE2), [NODE2])
    installReg(both, reg(6, NODE1), [NODE1, NODE2])
    exchange([n1, n2], both)
    // teardown: bob, then carol disconnect.
    kill(both, bob)
    kill(both, carol)
    const got = new Map<string, Array<Buffer>>([
      ["alice", n1.takeBytes(alice)],
      ["carol", n1.takeBytes(carol)],
      ["bob", n2.takeBytes(bob)]
    ])

    const labelOfGid = new Map<string, string>()
    const gidOfLabel = new Map<string, string>()
    for (const conn of ["alice", "bob", "carol"]) {
      const expected = notices(conn)
      const actual = got.get(conn)!
      expect(actual.map(masked), conn).toEqual(expected.map((e) => masked(e.bytes)))
      expected.forEach((e, i) => {
        const gid = gidHex(actual[i]!)
        // Same label <=> same gid (test/fixtures/README.md, "Group ids").
        expect(gidOfLabel.get(e.label) ?? gid, `${conn} ${e.label}`).toBe(gid)
        expect(labelOfGid.get(gid) ?? e.label, `${conn} ${gid}`).toBe(e.label)
        gidOfLabel.set(e.label, gid)
        labelOfGid.set(gid, e.label)
      })
    }
  })
})
