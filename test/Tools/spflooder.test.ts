/**
 * `spflooder` against a real daemon: one process sending and receiving (text and JSON), a
 * receiver with two senders (`-ro`, `-wo` as Spread spells them), loss detection, usage errors
 * and the progress bar on a pseudo-terminal. Needs `npm run build` first.
 */
import { describe, expect, it } from "@effect/vitest"
import type { FloodReport } from "../../src/Tools/Flood.js"
import { type RunningDaemon, withDaemon } from "../support/daemon.js"
import { runTool, startTool, waitForMember } from "./tools.js"

let daemon: RunningDaemon
let unix = ""
withDaemon((d) => {
  daemon = d
  unix = String(d.port)
})

describe.concurrent("spflooder", () => {
  it("prints rate, latency and delivery as text, over TCP, to several groups", async () => {
    const { code, stdout } = await runTool("spflooder", [
      "-u", "f2", "-s", `${daemon.port}@127.0.0.1`, "-m", "1000", "-b", "64", "--service", "safe", "--groups", "g2,g3"
    ])
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split("\n")
    expect(lines[0]).toMatch(/^sent 1000 and received 1000 messages of 64 bytes in [\d.]+ s \(SAFE to g2, g3\)$/)
    expect(lines[1]).toMatch(/^ {2}[\d,]+ messages\/s, [\d.,]+ MB\/s$/)
    expect(lines[2]).toMatch(/^ {2}latency p50 [\d.,]+ ms, p99 [\d.,]+ ms$/)
    expect(lines[3]).toBe("  lost 0, duplicated 0, out of order 0")
  })

  it("-ro counts what two -wo senders send, and reports as JSON", async () => {
    const receiver = startTool("spflooder", [
      "-u", "rx", "-s", unix, "-ro", "-m", "2000", "-b", "100", "--senders", "2", "--groups", "g4", "--json"
    ])
    await waitForMember(unix, "g4", "#rx#node1")
    const senders = await Promise.all(
      ["tx1", "tx2"].map((u) => runTool("spflooder", ["-u", u, "-s", unix, "-wo", "-m", "2000", "-b", "100", "--groups", "g4"]))
    )
    for (const s of senders) {
      expect(s.code).toBe(0)
      expect(s.stdout).toMatch(/^sent 2000 messages of 100 bytes in /)
      expect(s.stdout).not.toContain("lost")
    }
    expect(await receiver.exited).toBe(0)
    expect(receiver.errors()).toBe("")
    const report = JSON.parse(receiver.output()) as FloodReport
    expect(report).toMatchObject({ mode: "receive", bytes: 100, sent: 0, received: 4000, lost: 0, duplicated: 0, outOfOrder: 0 })
    expect(report.messagesPerSecond).toBeGreaterThan(0)
    expect(report.latencyP50).toBeGreaterThan(0)
    expect(report.latencyP99).toBeGreaterThanOrEqual(report.latencyP50!)
  })

  it("counts missing messages as lost once the flow stops, and exits 3", async () => {
    const receiver = startTool("spflooder", [
      "-u", "rx2", "-s", unix, "-ro", "-m", "500", "-b", "100", "--senders", "2", "--idle", "1", "--groups", "g5"
    ])
    await waitForMember(unix, "g5", "#rx2#node1")
    const sender = await runTool("spflooder", ["-u", "tx3", "-s", unix, "-wo", "-m", "500", "-b", "100", "--groups", "g5"])
    expect(sender.code).toBe(0)
    expect(await receiver.exited).toBe(3)
    expect(receiver.output()).toMatch(/^received 500 messages/)
    expect(receiver.output()).toContain("  lost 500, duplicated 0, out of order 0")
  })

  it("refuses -ro with -wo, and documents its flags", async () => {
    const both = await runTool("spflooder", ["-ro", "-wo"])
    expect(both.code).toBe(1)
    expect(both.stderr).toBe("spflooder: -ro and -wo exclude each other\n")
    const help = await runTool("spflooder", ["--help"])
    expect(help.code).toBe(0)
    for (const flag of ["--user, -u", "--spread, -s", "--messages, -m", "--bytes, -b", "--receive-only", "--write-only", "--service", "--groups", "--senders", "--json"]) {
      expect(help.stdout).toContain(flag)
    }
  })

  it("draws a progress bar on a terminal", async () => {
    const tty = startTool("spflooder", ["-u", "f3", "-s", unix, "-m", "5000", "-b", "100", "--groups", "g6"], { pty: true })
    expect(await tty.exited).toBe(0)
    expect(tty.output()).toMatch(/\[#+\.*\] +\d+% {2}\d+\/5000 messages/)
    expect(tty.output()).toContain("sent 5000 and received 5000 messages of 100 bytes")
  })
})
