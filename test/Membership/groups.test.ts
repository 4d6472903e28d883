/**
 * The GROUPS algorithm (daemon-protocol §8.3–§8.8) at two or three simulated daemons: pure
 * merges, ordered operations during GTRANS, cascades (GGATHER → GGT), group-id uniqueness across
 * deletion and re-creation, and the handling of bad or stray GROUPS_STATE messages.
 */
import { describe, expect, it } from "vitest"
import type { DaemonMessage, MembershipMessage } from "../../src/Protocol/DaemonMessage.ts"
import { encodeGroupsState } from "../../src/Membership/GroupsState.ts"
import {
  deliverFrom,
  exchange,
  gidOf,
  installReg,
  installTrans,
  join,
  kill,
  leave,
  NODE1,
  NODE2,
  NODE3,
  reg,
  SimDaemon,
  trans
} from "./harness.ts"

const views = (messages: ReadonlyArray<DaemonMessage>): Array<MembershipMessage> =>
  messages.filter((m): m is MembershipMessage => m._tag === "Membership")

const summary = (messages: ReadonlyArray<DaemonMessage>) =>
  messages.map((m) => {
    switch (m._tag) {
      case "Membership":
        return { tag: m.cause, gid: m.groupId, members: m.members, vsSets: m.vsSets, local: m.localVsSetIndex }
      case "Transition":
        return { tag: "trans", gid: m.groupId }
      default:
        return { tag: m._tag }
    }
  })

describe("pure merge (§8.6 notes)", () => {
  it("a group that lost nothing gets no TRANSITION_MESS, only the CAUSED_BY_NETWORK view", () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    installReg([n1], reg(4, NODE1), [NODE1])
    installReg([n2], reg(4, NODE2), [NODE2])
    const alice = n1.connect("alice")
    const bob = n2.connect("bob")
    join([n1], alice, "news")
    join([n2], bob, "news")
    n1.take(alice)
    n2.take(bob)

    installTrans([n1], trans(5, NODE1), [NODE1])
    installTrans([n2], trans(5, NODE2), [NODE2])
    installReg([n1, n2], reg(6, NODE1), [NODE1, NODE2])
    expect(n1.take(alice)).toEqual([])
    expect(n2.take(bob)).toEqual([])
    // The ring orders node2's state first this time: the result must not depend on it.
    exchange([n2, n1], [n1, n2])
    const expected = {
      tag: "network",
      gid: gidOf(reg(6, NODE1), 1),
      members: ["#alice#node1", "#bob#node2"],
      // node2's set first: its membId's proc id (0x0b28760d) is below node1's (0x1d5c9b95).
      vsSets: [["#bob#node2"], ["#alice#node1"]]
    }
    expect(summary(n1.take(alice))).toEqual([{ ...expected, local: 1 }])
    expect(summary(n2.take(bob))).toEqual([{ ...expected, local: 0 }])
    expect(n1.table.snapshot()).toEqual(n2.table.snapshot())
    expect(n1.table.syncedSet).toEqual([NODE1, NODE2])
  })

  it("three daemons: two synced sets, one state each, UNKNOWN-free sets ordered by membId", () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    const n3 = new SimDaemon(NODE3)
    // n1 and n2 merged earlier (one synced set), n3 alone.
    installReg([n1], reg(2, NODE1), [NODE1])
    installReg([n2], reg(2, NODE2), [NODE2])
    installReg([n3], reg(2, NODE3), [NODE3])
    installTrans([n1], trans(3, NODE1), [NODE1])
    installTrans([n2], trans(3, NODE2), [NODE2])
    installReg([n1, n2], reg(4, NODE1), [NODE1, NODE2])
    exchange([n1, n2], [n1, n2])
    expect(n1.table.syncedSet).toEqual([NODE1, NODE2])
    const a = n1.connect("a")
    const b = n2.connect("b")
    const c = n3.connect("c")
    join([n1, n2], a, "g")
    join([n1, n2], b, "g")
    join([n3], c, "g")
    n1.take(a)
    n2.take(b)
    n3.take(c)

    installTrans([n1, n2], trans(5, NODE1), [NODE1, NODE2])
    installTrans([n3], trans(5, NODE3), [NODE3])
    installReg([n1, n2, n3], reg(6, NODE1), [NODE1, NODE2, NODE3])
    // One state per synced set: n1 leads {n1, n2}; n3 leads {n3}.
    expect(n1.pending.length + n2.pending.length + n3.pending.length).toBe(2)
    expect(n2.pending).toEqual([])
    exchange([n3, n1], [n1, n2, n3])
    for (const d of [n1, n2, n3]) {
      expect(d.table.gstate).toBe("GOP")
      expect(d.table.syncedSet).toEqual([NODE1, NODE2, NODE3])
      expect(d.table.snapshot()).toEqual(n1.table.snapshot())
    }
    const [va] = views(n1.take(a))
    const [vb] = views(n2.take(b))
    const [vc] = views(n3.take(c))
    // {a, b} came from membId R(4,n1); {c} from R(2,n3). Proc id order: n1 < n3.
    expect(va!.vsSets).toEqual([["#a#node1", "#b#node2"], ["#c#node3"]])
    expect([va!.localVsSetIndex, vb!.localVsSetIndex, vc!.localVsSetIndex]).toEqual([0, 0, 1])
    expect(vb!.groupId).toEqual(va!.groupId)
    expect(vc!.groupId).toEqual(gidOf(reg(6, NODE1), 1))
  })
})

describe("ordered operations during GTRANS (§8.5 changed rules)", () => {
  const setup = () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    const n3 = new SimDaemon(NODE3)
    const all = [n1, n2, n3]
    installReg(all, reg(2, NODE1), [NODE1, NODE2, NODE3])
    const alice = n1.connect("alice")
    const carol = n1.connect("carol")
    const bob = n2.connect("bob")
    const dave = n3.connect("dave")
    join(all, alice, "chat")
    join(all, bob, "chat")
    join(all, dave, "chat")
    for (const d of all) for (const s of [alice, carol, bob, dave]) d.take(s)
    // n3 departs: n1 and n2 install T = {n1, n2}.
    installTrans([n1, n2], trans(3, NODE1), [NODE1, NODE2])
    return { n1, n2, n3, alice, carol, bob, dave }
  }

  it("join and leave in a changed group: CAUSED_BY_NETWORK then TRANSITION_MESS; joiner alone, last", () => {
    const { n1, n2, alice, carol, bob } = setup()
    const t = trans(3, NODE1)
    expect(summary(n1.take(alice))).toEqual([{ tag: "trans", gid: gidOf(reg(2, NODE1), 3) }])
    expect(n1.table.gstate).toBe("GTRANS")

    join([n1, n2], carol, "chat")
    // The network gave chat (T, 1); the join makes it (T, 2). Sets: {alice, bob} came together
    // through T, dave (UNKNOWN) alone, carol (the joiner) alone and last.
    const members = ["#alice#node1", "#carol#node1", "#bob#node2", "#dave#node3"]
    const sets = [["#alice#node1", "#bob#node2"], ["#dave#node3"], ["#carol#node1"]]
    expect(summary(n1.take(alice))).toEqual([
      { tag: "network", gid: gidOf(t, 2), members, vsSets: sets, local: 0 },
      { tag: "trans", gid: gidOf(t, 2) }
    ])
    expect(summary(n1.take(carol))).toEqual([
      { tag: "network", gid: gidOf(t, 2), members, vsSets: sets, local: 2 },
      { tag: "trans", gid: gidOf(t, 2) }
    ])
    n2.take(bob)

    leave([n1, n2], bob, "chat")
    expect(summary(n2.take(bob))).toEqual([{ tag: "SelfLeave" }])
    expect(summary(n1.take(alice))).toEqual([
      {
        tag: "network",
        gid: gidOf(t, 3),
        members: ["#alice#node1", "#carol#node1", "#dave#node3"],
        vsSets: [["#alice#node1", "#carol#node1"], ["#dave#node3"]],
        local: 0
      },
      { tag: "trans", gid: gidOf(t, 3) }
    ])

    n1.take(carol)

    // Departures only (#T = #R′): dave's daemon is dropped and the view goes out at once.
    installReg([n1, n2], reg(4, NODE1), [NODE1, NODE2])
    expect(n1.table.gstate).toBe("GOP")
    expect(n1.events.at(-1)).toBe("resume")
    expect(summary(n1.take(carol))).toEqual([
      {
        tag: "network",
        gid: gidOf(reg(4, NODE1), 1),
        members: ["#alice#node1", "#carol#node1"],
        vsSets: [["#alice#node1", "#carol#node1"]],
        local: 0
      }
    ])
    expect(n1.table.snapshot()).toEqual(n2.table.snapshot())
  })

  it("a group created in GTRANS starts at (T, 0); a join from a partitioned daemon marks it changed", () => {
    const { n1, n2, alice } = setup()
    const t = trans(3, NODE1)
    n1.take(alice)
    join([n1, n2], alice, "side")
    expect(summary(n1.take(alice))).toEqual([
      { tag: "join", gid: gidOf(t, 1), members: ["#alice#node1"], vsSets: [["#alice#node1"]], local: 0 }
    ])
    // eve's join was sent by node3 before it left and is delivered in T.
    join([n1, n2], "#eve#node3", "side")
    expect(summary(n1.take(alice))).toEqual([
      {
        tag: "network",
        gid: gidOf(t, 2),
        members: ["#alice#node1", "#eve#node3"],
        vsSets: [["#alice#node1"], ["#eve#node3"]],
        local: 0
      },
      { tag: "trans", gid: gidOf(t, 2) }
    ])
    kill([n1, n2], "#eve#node3")
    expect(summary(n1.take(alice))).toEqual([
      { tag: "network", gid: gidOf(t, 3), members: ["#alice#node1"], vsSets: [["#alice#node1"]], local: 0 },
      { tag: "trans", gid: gidOf(t, 3) }
    ])
    installReg([n1, n2], reg(4, NODE1), [NODE1, NODE2])
    const r = reg(4, NODE1)
    // chat (created first) then side: both changed, both get the new regular view.
    expect(summary(n1.take(alice))).toEqual([
      {
        tag: "network",
        gid: gidOf(r, 1),
        members: ["#alice#node1", "#bob#node2"],
        vsSets: [["#alice#node1", "#bob#node2"]],
        local: 0
      },
      { tag: "network", gid: gidOf(r, 1), members: ["#alice#node1"], vsSets: [["#alice#node1"]], local: 0 }
    ])
    expect(n1.table.snapshot()).toEqual(n2.table.snapshot())
  })

  it("an unchanged group keeps lightweight views in GTRANS, re-stamped with the transitional id", () => {
    const { n1, n2, alice, bob } = setup()
    n1.take(alice)
    // "quiet" lives on n1 and n2 only, so the transitional {n1, n2} did not change it.
    installReg([n1, n2], reg(4, NODE1), [NODE1, NODE2])
    join([n1, n2], alice, "quiet")
    installTrans([n1, n2], trans(5, NODE1), [NODE1, NODE2])
    n1.take(alice)
    join([n1, n2], bob, "quiet")
    expect(summary(n1.take(alice))).toEqual([
      {
        tag: "join",
        // Not (R4, 2): a daemon cut off from n1 and n2 may apply another operation under R4
        // (G1); the first operation in T5 re-stamps the group (Groups.ts, `applied`).
        gid: gidOf(trans(5, NODE1), 1),
        members: ["#alice#node1", "#bob#node2"],
        vsSets: [["#bob#node2"]],
        local: 0
      }
    ])
  })
})

describe("cascade (§8.6 GGATHER → GGT)", () => {
  const merging = () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    const n3 = new SimDaemon(NODE3)
    installReg([n1, n2], reg(2, NODE1), [NODE1, NODE2])
    installReg([n3], reg(2, NODE3), [NODE3])
    const alice = n1.connect("alice")
    const bob = n2.connect("bob")
    const dave = n3.connect("dave")
    join([n1, n2], alice, "chat")
    join([n1, n2], bob, "chat")
    join([n3], dave, "chat")
    for (const [d, s] of [[n1, alice], [n2, bob], [n3, dave]] as const) d.take(s)
    installTrans([n1, n2], trans(3, NODE1), [NODE1, NODE2])
    installTrans([n3], trans(3, NODE3), [NODE3])
    installReg([n1, n2, n3], reg(4, NODE1), [NODE1, NODE2, NODE3])
    return { n1, n2, n3, alice, bob, dave }
  }

  it("the old exchange completes in GGT: its view, then the saved transitional, then GTRANS", () => {
    const { n1, n2, n3, alice } = merging()
    // n1 and n2 have separate synced sets (they booted into one ring), so both send.
    deliverFrom(n1, [n1, n2])
    deliverFrom(n2, [n1, n2])
    expect(n1.table.gstate).toBe("GGATHER")
    // n3 fails; its state is still delivered in T₂ = {n1, n2} (it was sent before).
    installTrans([n1, n2], trans(5, NODE1), [NODE1, NODE2])
    expect(n1.table.gstate).toBe("GGT")
    expect(n1.take(alice)).toEqual([])
    deliverFrom(n3, [n1, n2])
    expect(n1.table.gstate).toBe("GTRANS")
    // The gate stays shut until the REG that follows T₂.
    expect(n1.events.filter((e) => e === "resume")).toEqual(["resume"])
    expect(summary(n1.take(alice))).toEqual([
      {
        tag: "network",
        gid: gidOf(reg(4, NODE1), 1),
        members: ["#alice#node1", "#bob#node2", "#dave#node3"],
        vsSets: [["#alice#node1", "#bob#node2"], ["#dave#node3"]],
        local: 0
      },
      { tag: "trans", gid: gidOf(reg(4, NODE1), 1) }
    ])
    installReg([n1, n2], reg(6, NODE1), [NODE1, NODE2])
    expect(n1.table.gstate).toBe("GOP")
    expect(n1.events.at(-1)).toBe("resume")
    expect(summary(n1.take(alice))).toEqual([
      {
        tag: "network",
        gid: gidOf(reg(6, NODE1), 1),
        members: ["#alice#node1", "#bob#node2"],
        vsSets: [["#alice#node1", "#bob#node2"]],
        local: 0
      }
    ])
    expect(n1.table.snapshot()).toEqual(n2.table.snapshot())
  })

  it("a REG in GGT keeps the complete states, drops T₂'s absentees and starts a new exchange", () => {
    const { n1, n2, alice, bob } = merging()
    deliverFrom(n1, [n1, n2])
    installTrans([n1, n2], trans(5, NODE1), [NODE1, NODE2])
    // n2's state was lost with the old ring; n3's never came.
    n2.pending.splice(0)
    installReg([n1, n2], reg(6, NODE1), [NODE1, NODE2])
    expect(n1.table.gstate).toBe("GGATHER")
    expect(n2.table.gstate).toBe("GGATHER")
    // n1's own state was received (nothing else to merge); n2's own state was not, so it
    // discards n1's. Each still leads its own synced set and sends a state stamped R″.
    expect(n1.table.syncedSet).toEqual([NODE1])
    expect(n2.table.syncedSet).toEqual([NODE2])
    expect(n1.pending.length).toBe(1)
    expect(n2.pending.length).toBe(1)
    exchange([n1, n2], [n1, n2])
    expect(n1.table.syncedSet).toEqual([NODE1, NODE2])
    expect(n1.table.gstate).toBe("GOP")
    expect(n2.table.gstate).toBe("GOP")
    // chat never lost or gained anything at n1 and n2: no notices.
    expect(n1.take(alice)).toEqual([])
    expect(n2.take(bob)).toEqual([])
    expect(n1.table.snapshot()).toEqual(n2.table.snapshot())
  })
})

describe("group ids (§8.4)", () => {
  it("a deleted-then-recreated group never repeats a gid, also past MaxRecreatedGroups", () => {
    const n1 = new SimDaemon(NODE1, { maxRecreatedGroups: 1 })
    installReg([n1], reg(2, NODE1), [NODE1])
    const alice = n1.connect("alice")
    const perGroup = new Map<string, Array<number>>()
    for (let round = 0; round < 4; round++) {
      for (const g of ["a", "b", "c"]) {
        join([n1], alice, g)
        const [v] = views(n1.take(alice))
        perGroup.set(g, [...(perGroup.get(g) ?? []), v!.groupId.index])
        leave([n1], alice, g)
        n1.take(alice)
      }
    }
    for (const [g, list] of perGroup) {
      for (let i = 1; i < list.length; i++) expect(list[i]!, `${g}: ${list.join(",")}`).toBeGreaterThan(list[i - 1]!)
    }
    // Only "a" fits in the map (bound 1): it continues at its last index + 1.
    expect(perGroup.get("a")!.slice(0, 2)).toEqual([1, 3])
  })

  it("a network change restarts at (new id, 1) and the re-creation map is cleared with the membId", () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    installReg([n1, n2], reg(2, NODE1), [NODE1, NODE2])
    const alice = n1.connect("alice")
    join([n1, n2], alice, "x")
    leave([n1, n2], alice, "x")
    join([n1, n2], alice, "x")
    expect(views(n1.take(alice)).map((v) => v.groupId)).toEqual([gidOf(reg(2, NODE1), 1), gidOf(reg(2, NODE1), 3)])
    installTrans([n1], trans(3, NODE1), [NODE1])
    installReg([n1], reg(4, NODE1), [NODE1])
    leave([n1], alice, "x")
    join([n1], alice, "x")
    // Under R(4): the leave re-stamps the group (R4, 1) before deleting it, so its re-creation
    // continues at 2.
    expect(views(n1.take(alice)).map((v) => v.groupId)).toEqual([gidOf(reg(4, NODE1), 2)])
  })
})

describe("GROUPS_STATE delivery edge cases", () => {
  it("a malformed payload is reported and ignored; a state of another configuration is ignored", () => {
    const n1 = new SimDaemon(NODE1)
    const n2 = new SimDaemon(NODE2)
    installReg([n1], reg(2, NODE1), [NODE1])
    installReg([n2], reg(2, NODE2), [NODE2])
    installTrans([n1], trans(3, NODE1), [NODE1])
    installTrans([n2], trans(3, NODE2), [NODE2])
    installReg([n1, n2], reg(4, NODE1), [NODE1, NODE2])
    n1.table.groupsStateDelivered(NODE2, Buffer.from([1, 2, 3]))
    expect(n1.rejected.map((e) => e._tag)).toEqual(["GroupsStateDecodeError"])
    n1.table.groupsStateDelivered(NODE2, encodeGroupsState({ configId: reg(2, NODE2), syncedSet: [NODE2], groups: [] }))
    expect(n1.table.gstate).toBe("GGATHER")
    exchange([n1, n2], [n1, n2])
    expect(n1.table.gstate).toBe("GOP")
    expect(n2.table.gstate).toBe("GOP")
  })
})
