/**
 * `sptuser` against a real daemon: messages print as they arrive without `r`, from a pipe and on
 * a pseudo-terminal while a line is half typed. Needs `npm run build` first.
 */
import { describe, expect, it } from "@effect/vitest"
import { type RunningDaemon, withDaemon } from "../support/daemon.js"
import { sendAs, startTool } from "./tools.js"

let daemon: RunningDaemon
let unix = ""
withDaemon((d) => {
  daemon = d
  unix = String(d.port)
})

describe.concurrent("sptuser", () => {
  it("prints what arrives without being asked, from a pipe", async () => {
    const user = startTool("sptuser", ["-u", "tina", "-s", `${daemon.port}@127.0.0.1`])
    user.write("j chat\n")
    await user.waitFor("Due to the JOIN of #tina#node1")
    user.write("s chat\nf\nhello from tina\n")
    await user.waitFor("received FIFO message from #tina#node1, of type 1, (endian 0) to 1 groups (chat)\n(16 bytes): hello from tina\n")
    user.write("r\nd\nq\n")
    expect(await user.exited).toBe(0)
    const out = user.output()
    expect(out.match(/not in sptuser: received messages print as soon as they arrive/g)).toHaveLength(2)
    expect(out).toMatch(/Bye\.\n$/)
  })

  it("on a terminal: a message arriving while a line is typed prints above it, and the line survives", async () => {
    const tty = startTool("sptuser", ["-u", "tty", "-s", unix], { pty: true })
    await tty.waitFor("User> ")
    expect(tty.output()).toContain("sptuser commands:")
    tty.write("j room\r")
    await tty.waitFor("Due to the JOIN of #tty#node1")
    await tty.waitFor(/User> $/)
    tty.write("s ro") // half a command
    await tty.waitFor(/User> s ro$/)
    const mark = tty.output().length
    await sendAs(unix, "uma", "room", "while you type")
    // The message, then the prompt with the half-typed line shown again.
    await tty.waitFor(/\(14 bytes\): while you type\nUser> s ro/, { from: mark })
    tty.write("om\r")
    await tty.waitFor("service:")
    tty.write("s\r")
    await tty.waitFor("enter message: ")
    tty.write("mine\r")
    await tty.waitFor(/received SAFE message from #tty#node1, of type 1, \(endian 0\) to 1 groups \(room\)\n\(5 bytes\): mine/)
    tty.write("q\r")
    expect(await tty.exited).toBe(0)
  })
})
