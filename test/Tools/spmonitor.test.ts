/**
 * `spmonitor` (daemon-protocol §10) against fake daemons: UDP sockets on 127.0.0.1 and
 * 127.0.0.2 that answer with the real pure handler (`handleMonitorRequest`), so codec, handler
 * and tool meet end to end; a third configured daemon is absent. Drives the built
 * `dist/Tools/spmonitor.js` (`npm run build` first). Tests against a live ring come later.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { createSocket, type Socket } from "node:dgram"
import { fileURLToPath } from "node:url"
import { configHash, loadConfig, type SpreadConfig } from "../../src/Config/index.js"
import { handleMonitorRequest, type MonitorAction } from "../../src/Membership/Monitor.js"
import { monitorKeyBytes, type StatusReplyFields } from "../../src/Protocol/Ring/Monitor.js"
import { freePort, writeConfig } from "../support/daemon.js"

const SPMONITOR = fileURLToPath(new URL("../../dist/Tools/spmonitor.js", import.meta.url))

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs spmonitor to its end (or kills it after `killAfterMs`). */
const spmonitor = (args: ReadonlyArray<string>, killAfterMs = 15_000): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [SPMONITOR, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill("SIGINT"), killAfterMs)
    child.once("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

const configText = (port: number, extra: string): string =>
  `Spread_Segment 127.0.0.255:${port} {\n  node1 127.0.0.1\n  node2 127.0.0.2\n  node3 127.0.0.3\n}\n${extra}`

interface FakeDaemon {
  readonly actions: Array<MonitorAction>
  readonly close: () => void
}

const statusOf = (config: SpreadConfig, rank: number): StatusReplyFields => {
  const me = config.daemons[rank]!
  return {
    uptimeMs: 3_725_000,
    state: "OPERATIONAL",
    gstate: "GOP",
    myId: me.id,
    leaderId: config.daemons[0]!.id,
    ringId: { seq: 42, rep: config.daemons[0]!.id },
    windows: config.windows,
    acceleratedRing: config.acceleratedRing,
    sessions: 2,
    groups: 5,
    counters: {
      packetsSent: 1200, packetsReceived: 2400, packetsDelivered: 3600, retransmissionsUnicast: 3,
      retransmissionsMulticast: 4, aru: 3600, myAru: 3600, highSeq: 3600, tokenHurries: 0, tokenRetransmissions: 1,
      rotations: 98_765, messagesDelivered: 3500, membershipChanges: 2
    },
    members: [config.daemons[0]!.id, config.daemons[1]!.id],
    daemonName: me.name,
    version: "0.1.0"
  }
}

/** A daemon's DATA socket that answers monitor requests with the real handler. */
const fakeDaemon = (config: SpreadConfig, rank: number): Promise<FakeDaemon> =>
  new Promise((resolve, reject) => {
    const me = config.daemons[rank]!
    const actions: Array<MonitorAction> = []
    const socket: Socket = createSocket("udp4")
    const configured = new Set(config.daemons.map((d) => d.address))
    socket.on("message", (bytes, rinfo) => {
      const result = handleMonitorRequest(bytes, {
        dangerousMonitor: config.access.dangerousMonitor,
        monitorKey: config.access.monitorKey === null ? undefined : monitorKeyBytes(config.access.monitorKey),
        sourceIsConfiguredDaemon: configured.has(rinfo.address),
        configHash: configHash(config),
        myRank: rank,
        configuredCount: config.daemons.length,
        maxWindow: 1000,
        status: () => statusOf(config, rank)
      })
      for (const a of result) {
        if (a._tag === "Reply") socket.send(a.bytes, a.port, rinfo.address)
        else actions.push(a)
      }
    })
    socket.once("error", reject)
    socket.bind(me.port, me.address!, () => resolve({ actions, close: () => socket.close() }))
  })

let running: Array<FakeDaemon> = []
afterEach(() => {
  running.forEach((d) => d.close())
  running = []
})

/** A configuration file and fake daemons for node1 and node2 (node3 stays silent). */
const setUp = async (extra = ""): Promise<{ path: string; daemons: ReadonlyArray<FakeDaemon> }> => {
  const path = writeConfig(configText(await freePort(), extra))
  const config = await Effect.runPromise(loadConfig(path))
  const daemons = await Promise.all([fakeDaemon(config, 0), fakeDaemon(config, 1)])
  running.push(...daemons)
  return { path, daemons }
}

const TIMEOUT = ["--timeout", "300"]

describe("spmonitor", () => {
  it("prints a status block per daemon and 'no reply' for a silent one (exit 3)", async () => {
    const { path } = await setUp()
    const r = await spmonitor(["-c", path, ...TIMEOUT])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(3)
    const lines = r.stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^node1 \(id 0x[0-9a-f]+, 127\.0\.0\.1:\d+\)$/)
    expect(lines[1]).toBe("  state OPERATIONAL, groups GOP, up 1 h 02 min 05 s, version 0.1.0")
    expect(lines[2]).toBe("  ring 42/node1, leader node1, 2 members: node1, node2")
    expect(lines[3]).toBe("  packets sent 1,200, received 2,400, delivered 3,600, retransmitted 3 unicast + 4 multicast")
    expect(r.stdout).toContain("  messages delivered 3,500, membership changes 2")
    expect(r.stdout).toContain("  sessions 2, groups 5")
    expect(r.stdout).toContain("  Window 160, PersonalWindow 20, AcceleratedWindow 15, accelerated ring on")
    expect(r.stdout).toMatch(/\nnode2 \(id 0x[0-9a-f]+, 127\.0\.0\.2:\d+\)\n {2}state OPERATIONAL/)
    expect(r.stdout).toMatch(/\nnode3 \(id 0x[0-9a-f]+, 127\.0\.0\.3:\d+\): no reply within 300 ms/)
  })

  it("-n asks one daemon; --json prints the round as one JSON line (exit 0)", async () => {
    const { path } = await setUp()
    const r = await spmonitor(["-c", path, "-n", "node2", "--status", "--json", ...TIMEOUT])
    expect(r.code).toBe(0)
    const round = JSON.parse(r.stdout) as { daemons: ReadonlyArray<{ name: string; result: string; status: StatusReplyFields }> }
    expect(round.daemons).toHaveLength(1)
    expect(round.daemons[0]).toMatchObject({ name: "node2", result: "STATUS", status: { daemonName: "node2", sessions: 2 } })
  })

  it("shows a refusal when DangerousMonitor is off, and exits 2", async () => {
    const { path, daemons } = await setUp()
    const r = await spmonitor(["-c", path, "--partition", "0,0,1", ...TIMEOUT])
    expect(r.code).toBe(2)
    expect(r.stdout).toContain("node1: partition refused: DangerousMonitor is off in node1's configuration")
    expect(r.stdout).toContain("node2: partition refused: DangerousMonitor is off in node2's configuration")
    expect(r.stdout).toMatch(/node3: partition no reply within 300 ms/)
    expect(daemons[0]!.actions).toEqual([{ _tag: "Refused", reason: "partition refused: DangerousMonitor is off" }])
  })

  it("carries out dangerous commands when DangerousMonitor is on, signed with the MonitorKey", async () => {
    const { path, daemons } = await setUp("DangerousMonitor = true\nMonitorKey = s3cret\n")
    const partition = await spmonitor(["-c", path, "-n", "node1", "--partition", "0,0,1", ...TIMEOUT])
    expect(partition.stdout.trim()).toBe("node1: partition accepted")
    expect(partition.code).toBe(0)
    expect(daemons[0]!.actions).toEqual([{ _tag: "SetPartition", components: [0, 0, 1] }])

    const windows = await spmonitor(["-c", path, "-n", "node2", "--window", "200", "--personal-window", "30", ...TIMEOUT])
    expect(windows.stdout.trim()).toBe("node2: flow control accepted")
    expect(daemons[1]!.actions).toEqual([{ _tag: "SetWindows", window: 200, personal: 30 }])

    const invalid = await spmonitor(["-c", path, "-n", "node2", "--personal-window", "500", ...TIMEOUT])
    expect(invalid.code).toBe(2)
    expect(invalid.stdout.trim()).toBe("node2: flow control refused: PersonalWindow 500 exceeds Window 160")

    const kill = await spmonitor(["-c", path, "--kill", "node1", ...TIMEOUT])
    expect(kill.stdout.trim()).toBe("node1: kill accepted")
    expect(daemons[0]!.actions.at(-1)).toEqual({ _tag: "Exit" })
  })

  it("--interval refreshes the status until interrupted", async () => {
    const { path } = await setUp()
    const r = await spmonitor(["-c", path, "-n", "node1", "--interval", "150", ...TIMEOUT], 1200)
    expect(r.stdout.match(/^--- \d{4}-/gm)?.length ?? 0).toBeGreaterThanOrEqual(2)
    expect(r.stdout.match(/^node1 \(id/gm)?.length ?? 0).toBeGreaterThanOrEqual(2)
  })

  it("refuses bad command lines before sending anything (exit 1)", async () => {
    const { path } = await setUp()
    const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
      [["--partition", "0,1"], "--partition names 2 components; the configuration has 3 daemons"],
      [["--reload", "--status"], "choose one command"],
      [["--kill", "node9"], `--kill: no daemon named "node9"`],
      [["--bind", "127.0.0.9"], "--bind 127.0.0.9 is not the address of a configured daemon"]
    ]
    for (const [args, message] of cases) {
      const r = await spmonitor(["-c", path, ...args])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`spmonitor: ${message}`)
      expect(r.stdout).toBe("")
    }
  })
})
