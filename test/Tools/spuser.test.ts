/**
 * `spuser` against a real daemon: piped scripts (commands, memberships with every cause,
 * errors), `-r`, a session on a pseudo-terminal, and the daemon going away.
 * Needs `npm run build` first (`npm test` does it).
 */
import { describe, expect, it } from "@effect/vitest"
import { startDaemon, withDaemon } from "../support/daemon.js"
import { runTool, sendAs, startTool } from "./tools.js"

let unix = ""
let tcp = ""
withDaemon((d) => {
  unix = String(d.port)
  tcp = `${d.port}@127.0.0.1`
})

describe.concurrent("spuser", () => {
  it("runs a piped script: join, send with a chosen service, burst, poll, leave", async () => {
    const script = [
      "j chat",
      "r", // our own join
      "s chat",
      "a", // AGREED
      "hello world",
      "r",
      "m chat",
      "line one",
      "line two",
      "",
      "r",
      "b chat",
      "2",
      "20",
      "r",
      "r",
      "d",
      "l chat",
      "r",
      "p",
      "q",
      "s chat", // never reached
      ""
    ].join("\n")
    const { code, stderr, stdout } = await runTool("spuser", ["-u", "alice", "-s", unix], script)
    expect(stderr).toBe("")
    expect(code).toBe(0)
    const lines = stdout.split("\n")
    expect(lines[0]).toBe(`User: connected to ${unix} with private group #alice#node1`)
    expect(stdout).toContain(
      [
        "Received REGULAR membership for group chat with 1 members, where I am member 0:",
        "\t#alice#node1"
      ].join("\n")
    )
    expect(stdout).toMatch(/grp id is -?\d+ -?\d+ -?\d+\nDue to the JOIN of #alice#node1\n/)
    expect(stdout).toContain(
      "received AGREED message from #alice#node1, of type 1, (endian 0) to 1 groups (chat)\n(12 bytes): hello world\n"
    )
    expect(stdout).toContain("received SAFE message from #alice#node1, of type 1, (endian 0) to 1 groups (chat)\n(18 bytes): line one\nline two\n")
    expect(stdout).toContain("sent 2 FIFO messages of 20 bytes to chat")
    expect(stdout).toContain("received FIFO message from #alice#node1, of type 2, (endian 0) to 1 groups (chat)\n(20 bytes): burst message 0 ....")
    expect(stdout).toContain("(20 bytes): burst message 1 ....")
    expect(stdout).toContain("received membership message that left group chat")
    expect(stdout).toContain("0 messages wait to be received")
    expect(lines.at(-2)).toBe("Bye.")
  })

  it("reports each membership cause and the member list, over TCP", async () => {
    const alice = startTool("spuser", ["-u", "alice2", "-s", tcp])
    alice.write("d\nj room\nr\n")
    await alice.waitFor("Due to the JOIN of #alice2#node1")
    // carol joins, leaves, joins again and quits without leaving: JOIN, LEAVE, JOIN, DISCONNECT.
    const carol = await runTool("spuser", ["-u", "carol", "-s", unix], "j room\nr\nl room\nr\nj room\nr\nq\n")
    expect(carol.code).toBe(0)
    alice.write("r\nr\nr\nr\nq\n")
    expect(await alice.exited).toBe(0)
    const out = alice.output()
    expect(out).toMatch(
      /Received REGULAR membership for group room with 2 members, where I am member [01]:\n\t#(alice2|carol)#node1\n\t#(alice2|carol)#node1\ngrp id is [-\d ]+\nDue to the JOIN of #carol#node1\n/
    )
    expect(out).toMatch(/with 1 members, where I am member 0:\n\t#alice2#node1\ngrp id is [-\d ]+\nDue to the LEAVE of #carol#node1\n/)
    expect(out).toMatch(/with 1 members, where I am member 0:\n\t#alice2#node1\ngrp id is [-\d ]+\nDue to the DISCONNECT of #carol#node1\n/)
    expect(out.match(/Due to the JOIN of #carol#node1/g)).toHaveLength(2)
  })

  it("explains bad commands and goes on", async () => {
    const longName = "g".repeat(40)
    const { code, stdout } = await runTool(
      "spuser",
      ["-u", "dave", "-s", unix],
      ["j", "x", `j ${longName}`, "s chat", "z", "?", "q", ""].join("\n")
    )
    expect(code).toBe(0)
    expect(stdout).toContain("j needs a group name")
    expect(stdout).toContain(`unknown command "x"`)
    expect(stdout).toMatch(/error: ILLEGAL_GROUP \(-14\)/)
    expect(stdout).toContain(`unknown service "z": nothing sent`)
    expect(stdout).toContain("spuser commands:")
    expect(stdout).toContain("Bye.")
  })

  it("-r only prints what arrives (here a message to its private group)", async () => {
    const bob = startTool("spuser", ["-r", "-u", "bob", "-s", unix])
    await bob.waitFor("with private group #bob#node1")
    await sendAs(unix, "erin", "#bob#node1", "hi bob")
    await bob.waitFor("(6 bytes): hi bob")
    expect(bob.output()).toContain("received AGREED message from #erin#node1, of type 5, (endian 0) to 1 groups (#bob#node1)")
    bob.process.kill("SIGTERM")
    await bob.exited
  })

  it("on a terminal: prompts, echoes, prints messages at the prompt as they arrive", async () => {
    const tty = startTool("spuser", ["-u", "pty", "-s", unix], { pty: true })
    await tty.waitFor("User> ")
    expect(tty.output()).toContain("spuser commands:") // the menu, on a terminal only
    tty.write("j chat\r")
    await tty.waitFor("Due to the JOIN of #pty#node1")
    const mark = tty.output().length
    await sendAs(unix, "frank", "chat", "ping from frank")
    await tty.waitFor(/\(15 bytes\): ping from frank\nUser> /, { from: mark })
    tty.write("q\r")
    await tty.waitFor("Bye.")
    expect(await tty.exited).toBe(0)
    expect(tty.output()).toContain("User> j chat") // what was typed, echoed
  })

  it("says why it cannot connect", async () => {
    const { code, stderr } = await runTool("spuser", ["-s", "/nonexistent/spread.sock"])
    expect(code).toBe(1)
    expect(stderr).toMatch(/^spuser: COULD_NOT_CONNECT/)
  })

  it("ends with an error when the daemon goes away", async () => {
    const other = await startDaemon({ name: "node2" })
    const user = startTool("spuser", ["-u", "gina", "-s", String(other.port)])
    await user.waitFor("with private group #gina#node2")
    await other.stop()
    expect(await user.exited).toBe(1)
    expect(user.errors()).toMatch(/^spuser: CONNECTION_CLOSED/)
  })
})
