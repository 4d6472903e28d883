/**
 * The daemon process as an operator meets it: flags, `--check-config`, start-up with a
 * configuration, and a clean shutdown on SIGTERM/SIGINT.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { canConnect, MAIN, sleep, startDaemon, writeConfig } from "../support/daemon.ts"
import { connectPeer, joinAndWait } from "../support/session.ts"

const run = (args: ReadonlyArray<string>) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 20_000 })

describe("spread command line", () => {
  it("--check-config prints daemons, ids, timeouts and the hash, and needs no -n", () => {
    const file = writeConfig("Spread_Segment 10.9.0.255:4803 {\n  alpha 10.9.0.1\n  beta 10.9.0.2\n}\nTokenTimeout = 2000\n")
    const r = run(["--check-config", "-c", file])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/Configuration hash 0x[0-9a-f]{8}/)
    expect(r.stdout).toMatch(/rank 0\s+alpha\s+10\.9\.0\.1/)
    expect(r.stdout).toMatch(/rank 1\s+beta\s+10\.9\.0\.2/)
    expect(r.stdout).toContain("TokenTimeout 2000")
  })

  it("a broken file is refused with its position and a non-zero exit", () => {
    const file = writeConfig("Spread_Segment 10.9.0.255:4803 {\n  alpha 10.9.0\n}\n")
    const r = run(["--check-config", "-c", file])
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain(`${file}:2:9: expected an IPv4 or IPv6 address after "alpha", found "10.9.0"`)
  })

  it("unknown flags and bad values are usage errors", () => {
    expect(run(["--frobnicate"]).stderr).toContain('unknown argument "--frobnicate"')
    expect(run(["-p", "70000"]).stderr).toContain('"70000" is not a port')
    expect(run(["-p", "4803", "--log-level", "loud"]).status).not.toBe(0)
  })

  it("a daemon not in the configuration is refused", () => {
    const file = writeConfig("Spread_Segment 127.0.0.255:4803 {\n  alpha 127.0.0.1\n}\n")
    const r = run(["-c", file, "-n", "gamma"])
    expect(r.status).not.toBe(0)
    expect(r.stderr).toContain('no daemon named "gamma"')
  })

  it("with RuntimeDir, each start has a larger incarnation and boots above the last ring seq", async () => {
    const dir = mkdtempSync(join(tmpdir(), "spread-run-"))
    const config = `Spread_Segment 127.0.0.255:4803 {\n  node1 127.0.0.1\n}\nRuntimeDir = ${dir}\n`
    const starts: Array<{ incarnation: number; seq: number }> = []
    for (let i = 0; i < 2; i++) {
      const daemon = await startDaemon({ name: "node1", config })
      // The log lines may reach the pipe a moment after the daemon accepts connections.
      for (let i = 0; i < 200 && !/incarnation=\d+[^]*regular configuration/.test(daemon.output()); i++) await sleep(10)
      const ready = /incarnation=(\d+)/.exec(daemon.output())
      const ring = /regular configuration \((\d+), node1\)/.exec(daemon.output())
      starts.push({ incarnation: Number(ready?.[1]), seq: Number(ring?.[1]) })
      expect(await daemon.stop()).toBe(0)
    }
    expect(starts[1]!.incarnation).toBeGreaterThan(starts[0]!.incarnation)
    expect(starts[1]!.seq).toBeGreaterThan(starts[0]!.seq)
    const state = JSON.parse(readFileSync(join(dir, "spread-node1.state"), "utf8")) as { incarnation: number; ringSeq: number }
    expect(state).toEqual({ incarnation: starts[1]!.incarnation, ringSeq: starts[1]!.seq })
  })

  it("listens for clients on its C interfaces only", async () => {
    const daemon = await startDaemon({
      name: "node1",
      config: "Spread_Segment 127.0.0.255:4803 {\n  node1 127.0.0.1 {\n    D 127.0.0.1\n    C 127.0.0.2\n  }\n}\n",
      clientHost: "127.0.0.2"
    })
    try {
      for (let i = 0; i < 200 && !/ready/.test(daemon.output()); i++) await sleep(10)
      expect(daemon.output()).toMatch(new RegExp(`ready.* tcp=127\\.0\\.0\\.2:${daemon.port} `))
      expect(await canConnect(daemon.port, "127.0.0.2")).toBe(true)
      expect(await canConnect(daemon.port, "127.0.0.1")).toBe(false)
      // The ring works on its D interface all the same.
      const peer = await connectPeer({ path: daemon.unixPath }, "carol")
      await joinAndWait(peer, "chat")
    } finally {
      await daemon.stop()
    }
  })

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`${signal} closes every session and removes the Unix socket`, async () => {
      const daemon = await startDaemon({ name: "node1", config: "Spread_Segment 127.0.0.255:4803 {\n  node1 127.0.0.1\n}\n" })
      const a = await connectPeer({ port: daemon.port }, "alice")
      const b = await connectPeer({ path: daemon.unixPath }, "bob")
      await joinAndWait(a, "chat")
      expect(daemon.output()).toMatch(/configuration hash 0x[0-9a-f]{8}/)
      daemon.process.kill(signal)
      await a.client.eof()
      await b.client.eof()
      expect(await daemon.exited).toBe(0)
      expect(existsSync(daemon.unixPath)).toBe(false)
    })
  }
})
