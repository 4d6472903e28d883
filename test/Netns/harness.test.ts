/**
 * The network-namespace harness itself: three hosts that reach each other, a cut link and a
 * partition that really stop traffic, a daemon inside a host reachable through its private /tmp,
 * and nothing left behind. Needs `npm run build` (the daemon runs from dist/).
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { createConnection } from "node:net"
import { describe, expect, it } from "vitest"
import { type HostProcess, netnsAvailable, type Network, spreadConf, useNetwork } from "../support/netns.ts"

const ECHO_PORT = 7

/** A UDP echo server (no `ping` on every machine; node is everywhere the tests run). */
const ECHO_SERVER = `
const s = require("node:dgram").createSocket("udp4")
s.on("message", (m, r) => s.send(m, r.port, r.address))
s.bind(${ECHO_PORT}, () => console.log("listening"))`

/** Exits 0 if the echo server at argv[1] answers within a second, 1 otherwise. */
const ECHO_CLIENT = `
const s = require("node:dgram").createSocket("udp4")
s.on("message", () => process.exit(0))
s.send("hello", ${ECHO_PORT}, process.argv[1])
setTimeout(() => process.exit(1), 1000)`

/** Exits 0 if a TCP connection to argv[1]:argv[2] opens. */
const TCP_CLIENT = `
const c = require("node:net").connect(Number(process.argv[2]), process.argv[1])
c.on("connect", () => process.exit(0))
c.on("error", (e) => { console.error(e.message); process.exit(1) })
setTimeout(() => process.exit(2), 2000)`

const reaches = async (network: Network, from: number, to: number): Promise<boolean> => {
  const result = await network.exec(from, [process.execPath, "-e", ECHO_CLIENT, network.hosts[to]!.address])
  return result.code === 0
}

const connectUnix = (path: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const socket = createConnection({ path })
    socket.once("connect", () => {
      socket.end()
      resolve()
    })
    socket.once("error", reject)
  })

const available = netnsAvailable()

describe.skipIf(!available.ok)(
  `network namespace harness${available.ok ? "" : ` (skipped: ${available.reason})`}`,
  () => {
    const network = useNetwork({ hosts: 3 })
    const echoes: Array<HostProcess> = []

    it("builds three hosts on one switch, adding no link to the root namespace", async () => {
      const net = network()
      expect(net.hosts.map((h) => h.name)).toEqual(["n1", "n2", "n3"])
      const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
      for (const ns of [net.switchNs, ...net.hosts.map((h) => h.ns)]) expect(namespaces).toContain(ns)
      const rootLinks = execFileSync("ip", ["-o", "link"], { encoding: "utf8" })
      expect(rootLinks).not.toContain(`${net.id}`)
      const eth0 = (await net.exec(1, ["ip", "-o", "-4", "addr", "show", "eth0"])).stdout
      expect(eth0).toContain(`${net.hosts[1]!.address}/24 brd ${net.broadcast}`)

      for (const i of [1, 2]) {
        const echo = net.spawn(i, [process.execPath, "-e", ECHO_SERVER], { label: "echo" })
        await echo.waitForOutput(/listening/)
        echoes.push(echo)
      }
      expect(await reaches(net, 0, 1)).toBe(true)
      expect(await reaches(net, 0, 2)).toBe(true)
    })

    it("cuts a host off and plugs it back in", async () => {
      const net = network()
      net.cutLink(2)
      expect(await reaches(net, 0, 2)).toBe(false)
      expect(await reaches(net, 0, 1)).toBe(true)
      net.restoreLink(2)
      expect(await reaches(net, 0, 2)).toBe(true)

      net.cutLink(2, "down")
      expect(await reaches(net, 0, 2)).toBe(false)
      net.restoreLink(2)
      expect(await reaches(net, 0, 2)).toBe(true)
    })

    it("partitions 2|1 and heals", async () => {
      const net = network()
      net.isolate([[0, 2], [1]])
      expect(await reaches(net, 0, 2)).toBe(true)
      expect(await reaches(net, 0, 1)).toBe(false)
      net.heal()
      expect(await reaches(net, 0, 1)).toBe(true)
      expect(await reaches(net, 0, 2)).toBe(true)
    })

    it("runs a daemon inside a host, with its Unix socket in the host's private /tmp", async () => {
      const net = network()
      const configText = spreadConf(net, { hosts: [0] })
      expect(configText).toContain(`Spread_Segment ${net.broadcast}:4803 {`)
      const daemon = await net.startDaemon(0, { configText, name: "n1" })
      expect(daemon.unixPath).toBe(`${net.hosts[0]!.dir}/4803`)
      await connectUnix(daemon.unixPath)
      // Its TCP listener is in host 1's namespace: host 2 reaches it over the simulated LAN.
      const tcp = await net.exec(1, [process.execPath, "-e", TCP_CLIENT, net.hosts[0]!.address, "4803"])
      expect(tcp.code, tcp.stderr).toBe(0)
      expect(await daemon.stop()).toEqual({ code: 0, signal: null })
      expect(existsSync(daemon.unixPath)).toBe(false)
    })

    it("leaves no namespace, process or directory behind", async () => {
      const net = network()
      await net.destroy()
      expect(execFileSync("ip", ["netns", "list"], { encoding: "utf8" })).not.toContain(net.id)
      for (const echo of echoes) expect((await echo.exited).signal).toBe("SIGTERM")
      if (process.env["SPREAD_NETNS_KEEP"] === undefined) expect(existsSync(net.runDir)).toBe(false)
    })
  }
)
