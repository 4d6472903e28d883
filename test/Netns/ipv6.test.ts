/**
 * The ring over IPv6 (issue 5: "IPv4 and IPv6"): three daemons on three hosts, configured with
 * their IPv6 addresses on one segment whose address is a multicast group (IPv6 has no
 * broadcast), form one ring, also where a host's multicast route leads to another interface,
 * and answer spmonitor; clients on every daemon share a group and see one order, and a
 * client on another host connects over TCP to a daemon's IPv6 address.
 */
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createNetwork, type NetnsDaemon, type Network, netnsAvailable, SEGMENT_GROUP6, spreadConf } from "../support/netns.ts"
import { connectTo, exchangeAgreed, type RecordingClient, ringOf, tearDown } from "./support.ts"

const available = netnsAvailable()
const NAMES = ["n1", "n2", "n3"]
const SPFLOODER = fileURLToPath(new URL("../../dist/Tools/spflooder.js", import.meta.url))
const SPMONITOR = fileURLToPath(new URL("../../dist/Tools/spmonitor.js", import.meta.url))

describe.skipIf(!available.ok)(`three daemons over IPv6${available.ok ? "" : ` (skipped: ${available.reason})`}`, () => {
  let net: Network
  const daemons: Array<NetnsDaemon> = []
  const clients: Array<RecordingClient> = []

  beforeAll(async () => {
    net = createNetwork({ hosts: 3 })
    // Host 3 has a second interface, and its route for site-local multicast leads there: a
    // daemon that left the choice of interface to the kernel would join the segment's group,
    // and send to it, on the wrong link.
    for (const argv of [
      ["ip", "link", "add", "other0", "type", "veth", "peer", "name", "other1"],
      ["ip", "link", "set", "other0", "up"],
      ["ip", "link", "set", "other1", "up"],
      ["ip", "-6", "route", "add", "multicast", "ff05::/16", "dev", "other0", "table", "local", "metric", "1"]
    ]) {
      const r = await net.exec(2, argv)
      if (r.code !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr}`)
    }
    const conf = spreadConf(net, { ipVersion: "IPv6" })
    daemons.push(...(await Promise.all(NAMES.map((name, i) => net.startDaemon(i, { configText: conf, name })))))
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(NAMES), 20_000)))
  }, 60_000)

  afterAll(() => tearDown(clients, net), 30_000)

  it("form one ring on a multicast segment, on the configured interface, listening on IPv6", () => {
    expect(spreadConf(net, { ipVersion: "IPv6" })).toContain(`Spread_Segment ${SEGMENT_GROUP6}:4803`)
    for (const d of daemons) expect(d.output()).toMatch(/ready.* tcp=\[::\]:4803 .* udp=\[::\]:4803\/4804/)
  })

  it("a client on another host reaches a daemon over TCP on its IPv6 address", async () => {
    const flood = await net.exec(1, [process.execPath, SPFLOODER, "--json", "-u", "tcp6", "-s", `4803@${net.hosts[0]!.address6}`, "-m", "200", "-b", "100"], { timeoutMs: 30_000 })
    expect(flood.code, flood.stderr).toBe(0)
    const report = JSON.parse(flood.stdout.trim().split("\n").at(-1)!) as { readonly received: number; readonly lost: number }
    expect(report).toMatchObject({ received: 200, lost: 0 })
  }, 40_000)

  it("spmonitor on a daemon's host reads every daemon's status over IPv6", async () => {
    const r = await net.exec(0, [process.execPath, SPMONITOR, "-c", daemons[0]!.configPath, "--timeout", "1500"], { timeoutMs: 20_000 })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    for (const name of NAMES) expect(r.stdout).toContain(name)
    expect(r.stdout).toMatch(/OPERATIONAL/)
  }, 30_000)

  it("clients on every daemon share a group and receive its messages in one order", async () => {
    clients.push(...(await Promise.all(daemons.map((d, i) => connectTo(d, `v${i + 1}`)))))
    const [first, ...others] = await exchangeAgreed(clients, "six", 5)
    expect(first).toHaveLength(15)
    for (const order of others) expect(order).toEqual(first)
  }, 60_000)
})
