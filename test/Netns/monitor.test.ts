/**
 * spmonitor against a ring of daemons on three hosts (issue 6), and the faults it injects
 * (issue 5): the status of every daemon, new windows, a one-way link failure made by a partition
 * installed at one daemon only (it stops hearing the others, they still hear it), which must
 * converge instead of churning, and a kill. A daemon whose configuration leaves DangerousMonitor
 * off refuses, and spmonitor says so.
 */
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createNetwork, type NetnsDaemon, netnsAvailable, type Network, spreadConf } from "../support/netns.ts"
import { firstStatus, type MonitorStatus, ringOf } from "./support.ts"

const SPMONITOR = fileURLToPath(new URL("../../dist/Tools/spmonitor.js", import.meta.url))
const available = netnsAvailable()
const NAMES = ["n1", "n2", "n3"]

describe.skipIf(!available.ok)(`spmonitor and a ring of three${available.ok ? "" : ` (skipped: ${available.reason})`}`, () => {
  let net: Network
  let conf: string
  let confPath: string
  const daemons: Array<NetnsDaemon> = []

  /** Runs spmonitor on host `i` (its source address is a configured daemon's, §10). */
  const spmonitor = (i: number, args: ReadonlyArray<string>, config = confPath) =>
    net.exec(i, [process.execPath, SPMONITOR, "-c", config, "--timeout", "1500", ...args], { timeoutMs: 20_000 })

  const statusOf = async (i: number, name: string): Promise<MonitorStatus> => firstStatus((await spmonitor(i, ["-n", name, "--json"])).stdout)

  beforeAll(async () => {
    net = createNetwork({ hosts: 4 })
    conf = spreadConf(net, { hosts: [0, 1, 2], extra: "DangerousMonitor = true" })
    daemons.push(...(await Promise.all(NAMES.map((name, i) => net.startDaemon(i, { configText: conf, name })))))
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(NAMES), 30_000)))
    confPath = daemons[0]!.configPath
  }, 60_000)

  afterAll(async () => {
    await net?.destroy()
  }, 30_000)

  it("prints every daemon's status: the ring of three, operational", async () => {
    const r = await spmonitor(0, [])
    expect(r.code).toBe(0)
    for (const name of NAMES) expect(r.stdout).toContain(name)
    expect(r.stdout).toMatch(/OPERATIONAL/)
    const s = await statusOf(0, "n3")
    expect(s.state).toBe("OPERATIONAL")
    expect(s.members).toHaveLength(3)
  }, 30_000)

  it("changes the flow-control windows at run time", async () => {
    const r = await spmonitor(0, ["--window", "100", "--personal-window", "15"])
    expect(r.code).toBe(0)
    for (const name of NAMES) expect((await statusOf(0, name)).windows?.window).toBe(100)
  }, 30_000)

  it("a one-way failure (n3 stops hearing n1 and n2) converges to a stable split, then merges when lifted", async () => {
    const marks = daemons.map((d) => d.output().length)
    const r = await spmonitor(0, ["-n", "n3", "--partition", "0,0,1"])
    expect(r.code).toBe(0)
    await daemons[0]!.waitForOutput(/regular configuration \(\d+, \w+\): n1 n2"/, 20_000)
    // Converged (L4, daemon-protocol §11.2.1): for 8 s the two sides keep their memberships. n3
    // may probe once per quarantine interval (1 s, 2 s, 4 s, … doubling); such an attempt fails
    // and n1 and n2 re-install the same two members, which their clients never see.
    await new Promise((res) => setTimeout(res, 8000))
    const regular = (i: number) => [...daemons[i]!.output().slice(marks[i]).matchAll(/regular configuration \(\d+, \w+\): ([\w ]+)"/g)].map((m) => m[1])
    for (const i of [0, 1]) {
      expect(regular(i).slice(1).every((m) => m === "n1 n2")).toBe(true)
      expect(regular(i).length).toBeLessThanOrEqual(5)
    }
    expect(regular(2).every((m) => m === "n3")).toBe(true)

    expect((await spmonitor(0, ["-n", "n3", "--clear-partition"])).code).toBe(0)
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(NAMES), 30_000)))
  }, 60_000)

  it("kills a daemon; the others form a ring of two", async () => {
    const r = await spmonitor(0, ["--kill", "n2"])
    expect(r.code).toBe(0)
    expect((await daemons[1]!.exited).code).toBe(0)
    await daemons[0]!.waitForOutput(/regular configuration \(\d+, \w+\): n1 n3"/, 20_000)
  }, 30_000)

  it("a daemon without DangerousMonitor refuses, and spmonitor says so", async () => {
    const plain = spreadConf(net, { hosts: [3], names: ["", "", "", "solo"] })
    const solo = await net.startDaemon(3, { configText: plain, name: "solo" })
    const r = await spmonitor(3, ["--kill", "solo"], solo.configPath)
    expect(r.code).toBe(2)
    expect(r.stdout + r.stderr).toMatch(/refused: DangerousMonitor is off/)
    expect(solo.running()).toBe(true)
  }, 30_000)
})
