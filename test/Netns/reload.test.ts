/**
 * Configuration reload (daemon-protocol §9.5) on real hosts: two daemons run on a file that lists
 * two (DangerousMonitor on). A reload of a broken file is logged and changes nothing. Then the
 * file is rewritten to list three, the third daemon starts on it, and `spmonitor --reload` (run
 * with the new file) is sent to the first two, one after the other: the three form one ring and
 * a client of the first daemon sees the third daemon's client join its group.
 */
import { writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createNetwork, type NetnsDaemon, netnsAvailable, type Network, spreadConf } from "../support/netns.ts"
import { connectTo, eventually, firstStatus, hasView, type MonitorStatus, type RecordingClient, ringOf, tearDown } from "./support.ts"

const SPMONITOR = fileURLToPath(new URL("../../dist/Tools/spmonitor.js", import.meta.url))
const available = netnsAvailable()

describe.skipIf(!available.ok)(`reload: a ring of two grows to three${available.ok ? "" : ` (skipped: ${available.reason})`}`, () => {
  let net: Network
  let two: string
  let three: string
  const daemons: Array<NetnsDaemon> = []
  const clients: Array<RecordingClient> = []

  /** spmonitor on host 0 (a configured daemon's address, §10) with the file at `config`. */
  const spmonitor = (config: string, args: ReadonlyArray<string>) =>
    net.exec(0, [process.execPath, SPMONITOR, "-c", config, "--timeout", "1500", ...args], { timeoutMs: 20_000 })

  const statusOf = async (config: string, name: string): Promise<MonitorStatus> =>
    firstStatus((await spmonitor(config, ["-n", name, "--json"])).stdout)

  beforeAll(async () => {
    net = createNetwork({ hosts: 3 })
    two = spreadConf(net, { hosts: [0, 1], extra: "DangerousMonitor = true" })
    three = spreadConf(net, { hosts: [0, 1, 2], extra: "DangerousMonitor = true" })
    daemons.push(...(await Promise.all(["n1", "n2"].map((name, i) => net.startDaemon(i, { configText: two, name })))))
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(["n1", "n2"]), 30_000)))
    clients.push(await connectTo(daemons[0]!, "c1"))
    await clients[0]!.connection.join("g")
    await eventually("c1's view of g", () => hasView(clients[0]!, "g", [clients[0]!]))
  }, 60_000)

  afterAll(() => tearDown(clients, net), 30_000)

  it("a broken file: the error is logged, the daemon keeps its configuration and its ring", async () => {
    const n1 = daemons[0]!
    const mark = n1.output().length
    writeFileSync(n1.configPath, "Spread_Segment 10.0.0.255:4803 {\n    n1 not-an-address\n")
    const r = await spmonitor(daemons[1]!.configPath, ["-n", "n1", "--reload"])
    expect(r.code).toBe(0)
    await n1.waitForOutput(/reload requested by [\d.]+: ConfigError: .*the configuration stays as it is/, 10_000)
    const s = await statusOf(daemons[1]!.configPath, "n1")
    expect(s.state).toBe("OPERATIONAL")
    expect(s.members).toHaveLength(2)
    expect(n1.output().slice(mark)).not.toMatch(/regular configuration/)
    writeFileSync(n1.configPath, two)
  }, 30_000)

  it("the file lists a third daemon: it starts on it, the first two reload; one ring of three, and clients see it", async () => {
    for (const d of daemons) writeFileSync(d.configPath, three)
    const n3 = await net.startDaemon(2, { configText: three, name: "n3" })
    daemons.push(n3)
    const newFile = n3.configPath
    // Rolled out one daemon at a time, as spmonitor would (§9.5 decision: the request may carry
    // the new file's hash; the daemons answer under it).
    for (const name of ["n1", "n2"]) {
      const r = await spmonitor(newFile, ["-n", name, "--reload"])
      expect(r.code, r.stdout + r.stderr).toBe(0)
    }
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(["n1", "n2", "n3"]), 30_000)))
    for (const d of daemons.slice(0, 2)) expect(d.output()).toMatch(/reload: membership: added 1, removed 0 daemons; new configuration hash/)
    for (const name of ["n1", "n2", "n3"]) {
      const s = await statusOf(newFile, name)
      expect(s.state).toBe("OPERATIONAL")
      expect(s.members).toHaveLength(3)
    }
    const c3 = await connectTo(n3, "c3")
    clients.push(c3)
    await c3.connection.join("g")
    await eventually("c1 and c3 see each other in g", () => hasView(clients[0]!, "g", [clients[0]!, c3]) && hasView(c3, "g", [clients[0]!, c3]))
  }, 90_000)
})
