/**
 * The client-level group checker (test/support/GroupChecker.ts, evs-properties §4) on hand-made
 * logs: a scenario that satisfies every property, and for each property a log that breaks it
 * and is caught. Also the recorder's round trip through real daemon messages.
 */
import { describe, expect, it } from "vitest"
import { encodeDataDelivery, encodeRegularMembership, encodeSelfLeave, encodeTransition } from "../../src/Protocol/DaemonMessage.ts"
import { AGREED_MESS, SELF_DISCARD } from "../../src/Protocol/Constants.ts"
import { decodeDaemonMessage } from "../../src/Protocol/index.ts"
import {
  checkGroups,
  type ClientEvent,
  type ClientLog,
  ClientRecorder,
  type DaemonInstall,
  type GroupCheckOptions,
  type GroupRun,
  type Service
} from "../support/GroupChecker.ts"

// ---------------------------------------------------------------------------------------------
// A small language for logs: events are pushed in one global order (gseq), as the simulator does.

const A = "#alice#n1"
const B = "#bob#n2"
const C = "#carol#n1"
const D = "#dave#n2"
const N1 = "n1#1"
const N2 = "n2#1"
const REP1 = 1000
const REP2 = 1826

type Tuple = readonly [procId: number, time: number, index: number]
const g3 = ([procId, time, index]: Tuple) => ({ procId, time, index })

const ev = {
  connect: (): ClientEvent => ({ type: "connect" }),
  disconnect: (): ClientEvent => ({ type: "disconnect" }),
  killed: (): ClientEvent => ({ type: "killed" }),
  join: (group: string): ClientEvent => ({ type: "reqJoin", group }),
  leave: (group: string): ClientEvent => ({ type: "reqLeave", group }),
  selfLeave: (group: string): ClientEvent => ({ type: "selfLeave", group }),
  send: (id: string, groups: ReadonlyArray<string>, service: Service = "AGREED", selfDiscard = false, digest = 1): ClientEvent =>
    ({ type: "csend", id, groups, service, selfDiscard, messType: 0, digest }),
  recv: (id: string, sender: string, groups: ReadonlyArray<string>, service: Service = "AGREED", selfDiscard = false, digest = 1): ClientEvent =>
    ({ type: "recv", id, sender, groups, service, selfDiscard, messType: 0, digest }),
  /** `local` −1: the set holding the receiver (filled in by {@link Scenario.on}). */
  view: (group: string, gid: Tuple, members: ReadonlyArray<string>, vsSets: ReadonlyArray<ReadonlyArray<string>>, cause: "join" | "leave" | "disconnect" | "network", local = -1): ClientEvent =>
    ({ type: "view", group, gid: g3(gid), members, vsSets, local, cause }),
  trans: (group: string, gid: Tuple): ClientEvent => ({ type: "trans", group, gid: g3(gid) })
}

class Scenario {
  private gseq = 0
  private readonly logs = new Map<string, { readonly log: ClientLog; readonly events: Array<ClientEvent> }>()
  private readonly installs = new Map<string, Array<DaemonInstall>>()

  /** A client process; its id is `<private group>/<serial>`. */
  client(privateGroup: string, daemon: string, membership = true, serial = 1): string {
    const id = `${privateGroup}/${serial}`
    const events: Array<ClientEvent> = []
    this.logs.set(id, { log: { id, privateGroup, daemon, membership, events }, events })
    return id
  }

  on(id: string, ...events: ReadonlyArray<ClientEvent>): this {
    const c = this.logs.get(id)!
    for (const e of events) {
      const local = e.type === "view" && e.local < 0 ? Math.max(0, e.vsSets.findIndex((s) => s.includes(c.log.privateGroup))) : undefined
      c.events.push({ ...e, ...(local !== undefined ? { local } : {}), gseq: ++this.gseq })
    }
    return this
  }

  install(daemon: string, kind: "REG" | "TRANS", seq: number, rep: number, members: ReadonlyArray<string>): this {
    if (!this.installs.has(daemon)) this.installs.set(daemon, [])
    this.installs.get(daemon)!.push({ kind, seq, rep, members, gseq: ++this.gseq })
    return this
  }

  run(up?: ReadonlyArray<string>, withInstalls = true): GroupRun {
    return {
      clients: [...this.logs.values()].map((c) => c.log),
      ...(withInstalls ? { installs: this.installs } : {}),
      ...(up !== undefined ? { endOfRun: { clientsUp: new Set(up) } } : {})
    }
  }
}

const properties = (run: GroupRun, options?: GroupCheckOptions): Array<string> => [...new Set(checkGroups(run, options).map((v) => v.property))].sort()

/** Strips the global order, as a real multi-process run would give it. */
const unordered = (run: GroupRun): GroupRun => ({
  clients: run.clients.map((c) => ({ ...c, events: c.events.map(({ gseq: _g, ...e }) => e as ClientEvent) }))
})

/**
 * alice (n1) and bob (n2) in `chat`, carol (n1, no membership messages): joins, messages of
 * several services (one SELF_DISCARD, one to a private group too), a partition (trans + NETWORK
 * views), a merge (pure: no trans), a leave and a disconnect. Every property holds.
 */
const happy = () => {
  const s = new Scenario()
  const a = s.client(A, N1)
  const b = s.client(B, N2)
  const c = s.client(C, N1, false)
  s.install(N1, "REG", 4, REP1, [N1, N2]).install(N2, "REG", 4, REP1, [N1, N2])
  s.on(a, ev.connect()).on(b, ev.connect()).on(c, ev.connect())
  s.on(a, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
  s.on(b, ev.join("chat"))
  s.on(a, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join")).on(b, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
  s.on(c, ev.join("chat"))
  s.on(a, ev.view("chat", [REP1, 4, 3], [A, C, B], [[C]], "join")).on(b, ev.view("chat", [REP1, 4, 3], [A, C, B], [[C]], "join"))
  s.on(a, ev.send("m1", ["chat"]), ev.recv("m1", A, ["chat"])).on(c, ev.recv("m1", A, ["chat"])).on(b, ev.recv("m1", A, ["chat"]))
  s.on(b, ev.send("m2", ["chat"], "FIFO", true)).on(a, ev.recv("m2", B, ["chat"], "FIFO", true)).on(c, ev.recv("m2", B, ["chat"], "FIFO", true))
  s.on(c, ev.send("m3", ["chat", B], "SAFE"), ev.recv("m3", C, ["chat", B], "SAFE"))
  s.on(a, ev.recv("m3", C, ["chat", B], "SAFE")).on(b, ev.recv("m3", C, ["chat", B], "SAFE"))
  s.on(a, ev.send("m4", ["chat"], "CAUSAL"))
  // Partition: n1 | n2.
  s.install(N1, "TRANS", 5, REP1, [N1]).on(a, ev.trans("chat", [REP1, 4, 3]), ev.recv("m4", A, ["chat"], "CAUSAL")).on(c, ev.recv("m4", A, ["chat"], "CAUSAL"))
  s.install(N1, "REG", 6, REP1, [N1]).on(a, ev.view("chat", [REP1, 6, 1], [A, C], [[A, C]], "network"))
  s.install(N2, "TRANS", 5, REP2, [N2]).on(b, ev.trans("chat", [REP1, 4, 3]))
  s.install(N2, "REG", 6, REP2, [N2]).on(b, ev.view("chat", [REP2, 6, 1], [B], [[B]], "network"))
  // Merge: nobody lost anything, so no trans; two vs_sets.
  s.install(N1, "TRANS", 7, REP1, [N1]).install(N2, "TRANS", 7, REP2, [N2])
  s.install(N1, "REG", 8, REP1, [N1, N2]).install(N2, "REG", 8, REP1, [N1, N2])
  s.on(a, ev.view("chat", [REP1, 8, 1], [A, C, B], [[A, C], [B]], "network")).on(b, ev.view("chat", [REP1, 8, 1], [A, C, B], [[A, C], [B]], "network"))
  s.on(a, ev.leave("chat"), ev.selfLeave("chat")).on(b, ev.view("chat", [REP1, 8, 2], [C, B], [[A]], "leave"))
  s.on(c, ev.disconnect()).on(b, ev.view("chat", [REP1, 8, 3], [B], [[C]], "disconnect"))
  s.on(b, ev.send("m5", ["chat"]), ev.recv("m5", B, ["chat"]))
  return { s, a, b, c }
}

describe("GroupChecker: a run where everything holds", () => {
  it("no violation, with the global order and installs, and without them", () => {
    const { s, a, b } = happy()
    expect(checkGroups(s.run([a, b]))).toEqual([])
    expect(checkGroups(unordered(s.run([a, b])))).toEqual([])
    expect(checkGroups(s.run([a, b]), { mode: "evs" })).toEqual([])
  })
})

describe("GroupChecker: each property is caught", () => {
  it("G1 view agreement: two views with one gid and different members", () => {
    const s = new Scenario()
    const a = s.client(A, N1)
    const b = s.client(B, N2)
    s.on(a, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
    s.on(b, ev.join("chat"))
    s.on(a, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
    s.on(b, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
    expect(properties(s.run(undefined, false))).toEqual([])
    const bad = new Scenario()
    const a2 = bad.client(A, N1)
    const b2 = bad.client(B, N2)
    bad.on(a2, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
    bad.on(b2, ev.join("chat"))
    bad.on(a2, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
    bad.on(b2, ev.view("chat", [REP1, 4, 2], [B], [[B]], "join"))
    const v = checkGroups(bad.run(undefined, false))
    expect(v.map((x) => x.property)).toContain("G1")
    expect(v.find((x) => x.property === "G1")).toMatchObject({ group: "chat", gid: "1000.4.2" })
  })

  it("G2 self-inclusion: a view that does not list the receiver, or whose local vs_set lacks it", () => {
    const s = new Scenario()
    const a = s.client(A, N1)
    s.on(a, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [B], [[B]], "join"))
    expect(properties(s.run(undefined, false))).toContain("G2")
    const t = new Scenario()
    const a2 = t.client(A, N1)
    t.on(a2, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A, B], [[A], [B]], "network", 1), ev.trans("chat", [REP1, 4, 1]))
    expect(properties(t.run(undefined, false))).toContain("G2")
  })

  it("G3 group ids: a repeated gid, a decreasing index, a trans with another gid, a gid of no configuration", () => {
    const repeat = new Scenario()
    const a = repeat.client(A, N1)
    repeat.on(a, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"), ev.view("chat", [REP1, 4, 1], [A, B], [[B]], "join"))
    expect(properties(repeat.run(undefined, false))).toContain("G3")
    // Re-creation under one membership id must not go back (daemon-protocol §8.4).
    const again = new Scenario()
    const a2 = again.client(A, N1)
    again.on(a2, ev.join("chat"), ev.view("chat", [REP1, 4, 3], [A], [[A]], "join"), ev.leave("chat"), ev.selfLeave("chat"))
    again.on(a2, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
    expect(properties(again.run(undefined, false))).toEqual(["G3"])
    const trans = new Scenario()
    const a3 = trans.client(A, N1)
    trans.on(a3, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"), ev.trans("chat", [REP1, 4, 7]))
    expect(properties(trans.run(undefined, false))).toContain("G3")
    // (c): the gid's (procId, time) must be a configuration some daemon installed before.
    const { s, a: ha, b: hb } = happy()
    s.install(N1, "REG", 99, REP1, [N1])
    expect(properties(s.run([ha, hb]))).toEqual([])
    const none = new Scenario()
    const a4 = none.client(A, N1)
    none.install(N1, "REG", 4, REP1, [N1])
    none.on(a4, ev.join("chat"), ev.view("chat", [REP1, 12, 1], [A], [[A]], "join"))
    expect(properties(none.run())).toEqual(["G3"])
    const early = new Scenario()
    const a5 = early.client(A, N1)
    early.on(a5, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
    early.install(N1, "REG", 4, REP1, [N1])
    expect(properties(early.run())).toEqual(["G3"])
    expect(properties(unordered(early.run()))).toEqual([])
  })

  it("G4 vs_set structure: NETWORK sets must partition the members; JOIN/LEAVE views change by the subject only", () => {
    const { s, a, b } = happy()
    expect(properties(s.run([a, b]))).toEqual([])
    const net = new Scenario()
    const x = net.client(A, N1)
    net.on(x, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A, B], [[A]], "network"), ev.trans("chat", [REP1, 4, 1]))
    expect(properties(net.run(undefined, false))).toContain("G4")
    const join = new Scenario()
    const y = join.client(A, N1)
    join.on(y, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
    join.on(y, ev.view("chat", [REP1, 4, 2], [A, B, D], [[B]], "join")) // D appeared from nowhere
    expect(properties(join.run(undefined, false))).toContain("G4")
    const leave = new Scenario()
    const z = leave.client(A, N1)
    leave.on(z, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"), ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
    leave.on(z, ev.view("chat", [REP1, 4, 3], [A, B], [[B]], "leave")) // the leaver is still listed
    expect(properties(leave.run(undefined, false))).toContain("G4")
  })

  it("G5 vs_sets: different previous gids in one set; a newcomer not alone; daemons split by a transitional configuration in one set", () => {
    const { s, a, b } = happy()
    expect(properties(s.run([a, b]))).toEqual([])
    // The happy merge with alice and bob (previous views (1000,6,1) and (1826,6,1)) in one set.
    const merged = happy()
    const bad = merged.s.run([merged.a, merged.b])
    const fix = (c: ClientLog): ClientLog => ({
      ...c,
      events: c.events.map((e) => e.type === "view" && e.gid.time === 8 && e.gid.index === 1 ? { ...e, vsSets: [[A, C, B]], local: 0 } : e)
    })
    const v = checkGroups({ ...bad, clients: bad.clients.map(fix) })
    expect(v.map((x) => x.property)).toContain("G5")
    expect(v.find((x) => x.property === "G5")!.clients).toEqual([`${A}/1`, `${B}/1`])
    // Same previous view, but their daemons went through different transitional configurations
    // (split and merged again before either saw a view of g): different vs_sets (§8.8). Only
    // visible with the installs.
    const split = (together: boolean) => {
      const t = new Scenario()
      const x = t.client(A, N1)
      const y = t.client(B, N2)
      t.install(N1, "REG", 4, REP1, [N1, N2]).install(N2, "REG", 4, REP1, [N1, N2])
      t.on(x, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
      t.on(y, ev.join("chat"))
      t.on(x, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join")).on(y, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
      t.install(N1, "TRANS", 5, REP1, [N1]).install(N2, "TRANS", 5, REP2, [N2])
      t.install(N1, "REG", 6, REP1, [N1, N2]).install(N2, "REG", 6, REP1, [N1, N2])
      const sets = together ? [[A, B]] : [[A], [B]]
      t.on(x, ev.view("chat", [REP1, 6, 1], [A, B], sets, "network")).on(y, ev.view("chat", [REP1, 6, 1], [A, B], sets, "network"))
      return t
    }
    expect(properties(split(false).run())).toEqual([])
    expect(properties(split(true).run())).toEqual(["G5"])
    expect(properties(unordered(split(true).run()))).toEqual([])
    // A joiner (no previous view) sharing a vs_set.
    const j = new Scenario()
    const x = j.client(A, N1)
    j.on(x, ev.join("chat"), ev.view("chat", [REP1, 5, 2], [A, B], [[A, B]], "network"), ev.trans("chat", [REP1, 5, 2]))
    expect(properties(j.run(undefined, false))).toEqual(["G5"])
  })

  it("G6 causes: a JOIN without reqJoin, a LEAVE without selfLeave, a DISCONNECT of a live session, a NETWORK view with no install", () => {
    const { s, a, b } = happy()
    expect(properties(s.run([a, b]))).toEqual([])
    const join = new Scenario()
    const x = join.client(A, N1)
    const y = join.client(B, N2)
    join.on(x, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"))
    join.on(x, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join")) // bob never asked
    join.on(y, ev.connect())
    expect(properties(join.run(undefined, false))).toEqual(["G6"])
    const leave = new Scenario()
    const l1 = leave.client(A, N1)
    const l2 = leave.client(B, N2)
    leave.on(l1, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join")).on(l2, ev.join("chat"))
    leave.on(l1, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join")).on(l2, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
    leave.on(l2, ev.leave("chat")).on(l1, ev.view("chat", [REP1, 4, 3], [A], [[B]], "leave"))
    // bob asked but never got its selfLeave, and then still gets data for chat.
    leave.on(l1, ev.send("m1", ["chat"])).on(l2, ev.recv("m1", A, ["chat"]))
    const v = checkGroups(leave.run(undefined, false)).filter((z) => z.property === "G6")
    expect(v.map((z) => z.detail).join("\n")).toMatch(/never got selfLeave/)
    leave.on(l2, ev.selfLeave("chat"), ev.recv("m2", A, ["chat"]))
    expect(checkGroups(leave.run(undefined, false)).map((z) => z.detail).join("\n")).toMatch(/received m2 for chat after leaving it/)
    const disc = new Scenario()
    const d1 = disc.client(A, N1)
    const d2 = disc.client(B, N2)
    disc.on(d1, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join")).on(d2, ev.join("chat"))
    disc.on(d1, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join")).on(d2, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
    disc.on(d1, ev.view("chat", [REP1, 4, 3], [A], [[B]], "disconnect"))
    disc.on(d2, ev.disconnect()) // too late: after the view
    expect(properties(disc.run(undefined, false))).toEqual(["G6"])
    expect(properties(unordered(disc.run(undefined, false)))).toEqual([])
    const net = new Scenario()
    const n = net.client(A, N1)
    net.install(N1, "REG", 4, REP1, [N1])
    net.on(n, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"), ev.view("chat", [REP1, 4, 2], [A], [[A]], "network"))
    expect(properties(net.run())).toEqual(["G6"])
  })

  it("G7 (a): after trans(g) the next view of g is NETWORK", () => {
    const { s, a, b } = happy()
    expect(properties(s.run([a, b]))).toEqual([])
    const t = new Scenario()
    const x = t.client(A, N1)
    t.on(x, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join"), ev.trans("chat", [REP1, 4, 1]))
    t.on(x, ev.view("chat", [REP1, 4, 2], [A, B], [[B]], "join"))
    expect(properties(t.run(undefined, false))).toContain("G7")
  })

  /** alice and carol (both n1, membership) go from (1000,4,2) to the NETWORK view (1000,6,1) together. */
  const together = (carolGets: ReadonlyArray<string>, service: Service = "AGREED") => {
    const s = new Scenario()
    const a = s.client(A, N1)
    const c = s.client(C, N1)
    s.on(a, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join")).on(c, ev.join("chat"))
    s.on(a, ev.view("chat", [REP1, 4, 2], [A, C], [[C]], "join")).on(c, ev.view("chat", [REP1, 4, 2], [A, C], [[C]], "join"))
    s.on(a, ev.send("m1", ["chat"], service), ev.recv("m1", A, ["chat"], service), ev.send("m2", ["chat"], service, true))
    for (const m of carolGets) s.on(c, ev.recv(m, A, ["chat"], service, m === "m2"))
    s.on(a, ev.trans("chat", [REP1, 4, 2]), ev.view("chat", [REP1, 6, 1], [A, C], [[A, C]], "network"))
    s.on(c, ev.trans("chat", [REP1, 4, 2]), ev.view("chat", [REP1, 6, 1], [A, C], [[A, C]], "network"))
    return s.run(undefined, false)
  }

  it("G8 failure atomicity: members that move together received the same messages (own SELF_DISCARD ones aside)", () => {
    expect(properties(together(["m1", "m2"]))).toEqual([])
    expect(properties(together(["m1"]))).toEqual([]) // m2 is alice's own SELF_DISCARD message
    expect(properties(together(["m2"]))).toEqual(["G8"])
    expect(properties(together(["m2"], "RELIABLE"))).toEqual([]) // RELIABLE-class is exempt
  })

  it("G9 FIFO per sender", () => {
    const mk = (order: ReadonlyArray<string>, service: Service) => {
      const s = new Scenario()
      const a = s.client(A, N1)
      const b = s.client(B, N2)
      s.on(a, ev.send("m1", [B], service), ev.send("m2", [B], service))
      for (const m of order) s.on(b, ev.recv(m, A, [B], service))
      return s.run(undefined, false)
    }
    expect(properties(mk(["m1", "m2"], "FIFO"))).toEqual([])
    expect(properties(mk(["m2", "m1"], "FIFO"))).toEqual(["G9"])
    expect(properties(mk(["m2", "m1"], "RELIABLE"))).toEqual([])
  })

  it("G10 total order across groups and clients (strict: FIFO and CAUSAL too); a three-client cycle with no pairwise conflict", () => {
    const mk = (bobOrder: ReadonlyArray<string>, service: Service) => {
      const s = new Scenario()
      const a = s.client(A, N1)
      const b = s.client(B, N2)
      const c = s.client(C, N1)
      s.on(c, ev.send("x", ["g"], service), ev.send("y", ["h"], service))
      s.on(a, ev.send("z", ["g", "h"], service))
      for (const m of ["x", "y", "z"]) s.on(a, ev.recv(m, m === "z" ? A : C, m === "x" ? ["g"] : m === "y" ? ["h"] : ["g", "h"], service))
      for (const m of bobOrder) s.on(b, ev.recv(m, m === "z" ? A : C, m === "x" ? ["g"] : m === "y" ? ["h"] : ["g", "h"], service))
      return s.run(undefined, false)
    }
    expect(properties(mk(["x", "y", "z"], "AGREED"))).toEqual([])
    expect(properties(mk(["x", "z", "y"], "AGREED"))).toEqual(["G10"])
    expect(properties(mk(["x", "z", "y"], "CAUSAL"))).toEqual(["G10"])
    expect(properties(mk(["x", "z", "y"], "CAUSAL"), { mode: "evs" })).toEqual([])
    expect(properties(mk(["x", "z", "y"], "RELIABLE"))).toEqual([])
    // a: p q, b: q r, c: r p — every pair shares one message, but no total order fits.
    const cyc = new Scenario()
    const x = cyc.client(A, N1)
    const y = cyc.client(B, N2)
    const z = cyc.client(C, N1)
    cyc.on(x, ev.send("p", ["g"])).on(y, ev.send("q", ["g"])).on(z, ev.send("r", ["g"]))
    cyc.on(x, ev.recv("p", A, ["g"]), ev.recv("q", B, ["g"])).on(y, ev.recv("q", B, ["g"]), ev.recv("r", C, ["g"])).on(z, ev.recv("r", C, ["g"]), ev.recv("p", A, ["g"]))
    const v = checkGroups(cyc.run(undefined, false))
    expect(v.map((w) => w.property)).toEqual(["G10"])
    expect(v[0]!.detail).toMatch(/no total order/)
  })

  it("G12 self-discard: the sender never gets its own SELF_DISCARD message", () => {
    const mk = (self: boolean) => {
      const s = new Scenario()
      const a = s.client(A, N1)
      s.on(a, ev.send("m1", ["chat"], "AGREED", true))
      if (self) s.on(a, ev.recv("m1", A, ["chat"], "AGREED", true))
      return s.run(undefined, false)
    }
    expect(properties(mk(false))).toEqual([])
    expect(properties(mk(true))).toEqual(["G12"])
  })

  it("G13 same view, same side: an agreed message received in two views, or on two sides of trans, before the same next view", () => {
    expect(properties(together(["m1"]))).toEqual([])
    // carol gets m1 after the trans, alice before it: both next see (1000,6,1).
    const s = new Scenario()
    const a = s.client(A, N1)
    const c = s.client(C, N1)
    s.on(a, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join")).on(c, ev.join("chat"))
    s.on(a, ev.view("chat", [REP1, 4, 2], [A, C], [[C]], "join")).on(c, ev.view("chat", [REP1, 4, 2], [A, C], [[C]], "join"))
    s.on(a, ev.send("m1", ["chat"]), ev.recv("m1", A, ["chat"]), ev.trans("chat", [REP1, 4, 2]), ev.view("chat", [REP1, 6, 1], [A, C], [[A, C]], "network"))
    s.on(c, ev.trans("chat", [REP1, 4, 2]), ev.recv("m1", A, ["chat"]), ev.view("chat", [REP1, 6, 1], [A, C], [[A, C]], "network"))
    expect(properties(s.run(undefined, false))).toEqual(["G13"])
    // The same with a RELIABLE message is allowed.
    const r = new Scenario()
    const a2 = r.client(A, N1)
    const c2 = r.client(C, N1)
    r.on(a2, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [A], [[A]], "join")).on(c2, ev.join("chat"))
    r.on(a2, ev.view("chat", [REP1, 4, 2], [A, C], [[C]], "join")).on(c2, ev.view("chat", [REP1, 4, 2], [A, C], [[C]], "join"))
    r.on(a2, ev.send("m1", ["chat"], "RELIABLE"), ev.recv("m1", A, ["chat"], "RELIABLE"), ev.trans("chat", [REP1, 4, 2]), ev.view("chat", [REP1, 6, 1], [A, C], [[A, C]], "network"))
    r.on(c2, ev.trans("chat", [REP1, 4, 2]), ev.recv("m1", A, ["chat"], "RELIABLE"), ev.view("chat", [REP1, 6, 1], [A, C], [[A, C]], "network"))
    expect(properties(r.run(undefined, false))).toEqual([])
  })

  it("G14 integrity: duplicates, unknown messages, altered attributes", () => {
    const mk = (...recvs: ReadonlyArray<ClientEvent>) => {
      const s = new Scenario()
      const a = s.client(A, N1)
      const b = s.client(B, N2)
      s.on(a, ev.send("m1", ["chat"], "SAFE"))
      s.on(b, ...recvs)
      return checkGroups(s.run(undefined, false))
    }
    expect(mk(ev.recv("m1", A, ["chat"], "SAFE"))).toEqual([])
    expect(mk(ev.recv("m1", A, ["chat"], "SAFE"), ev.recv("m1", A, ["chat"], "SAFE"))[0]!.detail).toMatch(/twice/)
    expect(mk(ev.recv("m9", A, ["chat"], "SAFE"))[0]!.detail).toMatch(/never sent/)
    expect(mk(ev.recv("m1", C, ["chat"], "SAFE"))[0]!.detail).toMatch(/sender/)
    expect(mk(ev.recv("m1", A, ["chat", "x"], "SAFE"))[0]!.detail).toMatch(/groups/)
    expect(mk(ev.recv("m1", A, ["chat"], "AGREED"))[0]!.detail).toMatch(/service/)
    expect(mk(ev.recv("m1", A, ["chat"], "SAFE", false, 2))[0]!.detail).toMatch(/digest/)
    for (const p of [ev.recv("m9", A, ["chat"], "SAFE")]) expect(mk(p).map((x) => x.property)).toEqual(["G14"])
  })

  it("G15 client self-delivery: a client that stays up and in the group gets its own message", () => {
    const { s, a, b } = happy()
    expect(properties(s.run([a, b]))).toEqual([])
    const lost = happy()
    lost.s.on(lost.b, ev.send("m6", ["chat"], "UNRELIABLE"))
    expect(properties(lost.s.run([lost.a, lost.b]))).toEqual(["G15"])
    expect(properties(lost.s.run([lost.a]))).toEqual([]) // bob did not stay up
    lost.s.on(lost.b, ev.send("m7", [B], "FIFO")) // to its own private group
    expect(checkGroups(lost.s.run([lost.a, lost.b])).map((v) => v.message)).toEqual(["m6", "m7"])
    // Without membership messages: its reqJoin counts for FIFO and stronger.
    const nm = new Scenario()
    const x = nm.client(C, N1, false)
    nm.on(x, ev.connect(), ev.join("chat"), ev.send("m1", ["chat"], "AGREED"), ev.send("m2", ["chat"], "RELIABLE"))
    expect(checkGroups(nm.run([x])).map((v) => v.message)).toEqual(["m1"])
  })

  it("LOG: membership messages to a session that did not ask for them", () => {
    const s = new Scenario()
    const x = s.client(C, N1, false)
    s.on(x, ev.join("chat"), ev.view("chat", [REP1, 4, 1], [C], [[C]], "join"))
    expect(properties(s.run(undefined, false))).toEqual(["LOG"])
  })

  it("reports carry the property, clients, group, gid, message and log positions", () => {
    const s = new Scenario()
    const a = s.client(A, N1)
    const b = s.client(B, N2)
    s.on(a, ev.send("m1", ["chat"], "FIFO"), ev.send("m2", ["chat"], "FIFO"))
    s.on(b, ev.recv("m2", A, ["chat"], "FIFO"), ev.recv("m1", A, ["chat"], "FIFO"))
    const [v] = checkGroups(s.run(undefined, false))
    expect(v).toMatchObject({ property: "G9", clients: [`${B}/1`], message: "m1", positions: [`${B}/1@1`], gseq: 4 })
  })
})

describe("ClientRecorder", () => {
  it("records actions and daemon messages; ids travel in the payload; a digest catches corruption", () => {
    let gseq = 0
    const rec = new ClientRecorder({ id: `${A}/1`, privateGroup: A, daemon: N1, membership: true, stamp: () => ({ gseq: ++gseq, t: 0 }) })
    const bob = new ClientRecorder({ id: `${B}/1`, privateGroup: B, daemon: N2, membership: true })
    rec.connect()
    rec.reqJoin("chat")
    const gid = { procId: REP1, time: 4, index: 1 }
    rec.received(decodeDaemonMessage(encodeRegularMembership({ cause: "join", group: "chat", members: [A], groupId: gid, vsSets: [[A]], localVsSetIndex: 0 }), A))
    const { id, payload } = rec.csend(["chat"], AGREED_MESS | SELF_DISCARD, -7, Buffer.from("hello"))
    expect(id).toBe(`${A}/1:1`)
    const wire = encodeDataDelivery({ service: AGREED_MESS | SELF_DISCARD, sender: A, groups: ["chat"], messType: -7, senderBigEndian: true, payload })
    bob.received(decodeDaemonMessage(wire, B))
    rec.received(decodeDaemonMessage(encodeTransition("chat", gid), A))
    rec.received(decodeDaemonMessage(encodeSelfLeave("chat"), A))
    rec.disconnect()
    rec.received(decodeDaemonMessage(encodeSelfLeave("other"), A)) // after the end: not recorded
    expect(rec.log.events.map((e) => e.type)).toEqual(["connect", "reqJoin", "view", "csend", "trans", "selfLeave", "disconnect"])
    expect(rec.log.events.map((e) => e.gseq)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(bob.log.events[0]).toMatchObject({ type: "recv", id, sender: A, service: "AGREED", selfDiscard: true, messType: -7 })
    expect(checkGroups({ clients: [rec.log, bob.log] })).toEqual([])
    bob.received(decodeDaemonMessage(wire, B))
    const carol = new ClientRecorder({ id: `${C}/1`, privateGroup: C, daemon: N1, membership: false })
    const corrupt = Buffer.from(wire)
    corrupt[corrupt.length - 1]! ^= 1
    carol.received(decodeDaemonMessage(corrupt, C))
    expect(checkGroups({ clients: [rec.log, bob.log, carol.log] }).map((v) => v.detail)).toEqual([
      `${B}/1 received ${id} twice`,
      `${C}/1 received ${id} with other attributes than sent: payload digest`
    ])
  })
})
