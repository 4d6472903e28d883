/**
 * The Promise/listener facade, against scripted daemons.
 */
import { describe, expect, it } from "vitest"
import {
  ConnectionClosed,
  CouldNotConnect,
  IllegalGroup,
  IllegalService,
  IllegalSession,
  MessageTooLong,
  RejectNotUnique,
  type SpreadMessage,
  SpreadConnection
} from "../../src/Client/index.js"
import { startEchoDaemon } from "./EchoDaemon.js"
import { asSpReceive } from "./Replay.js"
import { loadFixture, startScriptedDaemon, stepsOf } from "./ScriptedDaemon.js"

const expectedMessages = (file: string, conn: string) =>
  stepsOf(loadFixture(file), conn)
    .filter((s) => s.dir === "d2c" && s.decoded?.kind === "message")
    .map((s) => {
      const sp = s.decoded.sp_receive
      return { service_type: sp.service_type, sender: sp.sender, groups: sp.groups, mess_type: sp.mess_type, endian_mismatch: sp.endian_mismatch }
    })

describe("SpreadConnection", () => {
  it("replays 12 as alice: listeners and an async iteration see every message in order", async () => {
    const daemon = await startScriptedDaemon(stepsOf(loadFixture("12"), "alice"), { transport: "unix", chunking: "odd" })
    const connection = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "alice" })
    expect(connection.privateGroup).toBe("#alice#node1")
    const data: Array<SpreadMessage> = []
    const memberships: Array<SpreadMessage> = []
    connection.on("message", (m) => data.push(m))
    connection.on("membership", (m) => memberships.push(m))
    const iterator = connection[Symbol.asyncIterator]()
    const seen: Array<SpreadMessage> = []
    const next = async () => {
      const r = await iterator.next()
      if (!r.done) seen.push(r.value)
      return r
    }
    await connection.join("chat")
    await next()
    await next()
    await connection.multicast("agreed", "chat", 7, "hello")
    expect((await next()).value?._tag).toBe("Data")
    await next()
    const finished = connection.disconnect()
    expect((await next()).done).toBe(true)
    await finished
    expect(seen.map(asSpReceive)).toEqual(expectedMessages("12", "alice"))
    expect(data.map(asSpReceive)).toEqual(seen.filter((m) => m._tag === "Data").map(asSpReceive))
    expect(memberships.map(asSpReceive)).toEqual(seen.filter((m) => m._tag !== "Data").map(asSpReceive))
    expect(await daemon.finished).toEqual([])
    await daemon.close()
  })

  it("for await ends at disconnect; calls after it reject with IllegalSession", async () => {
    const daemon = await startScriptedDaemon(stepsOf(loadFixture("21"), "alice"), { transport: "tcp", chunking: "bytewise" })
    const connection = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "alice" })
    await connection.join("chat")
    const tags: Array<string> = []
    for await (const m of connection) {
      tags.push(m._tag)
      if (m._tag === "Membership") await connection.leave("chat")
      if (m._tag === "SelfLeave") await connection.disconnect()
    }
    expect(tags).toEqual(["Membership", "SelfLeave"])
    await expect(connection.join("chat")).rejects.toBeInstanceOf(IllegalSession)
    expect(await daemon.finished).toEqual([])
    await daemon.close()
  })

  it("rejects calls with the tagged errors, carrying their codes", async () => {
    const daemon = await startEchoDaemon()
    const connection = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "carol" })
    await expect(connection.join("a b")).rejects.toBeInstanceOf(IllegalGroup)
    await expect(connection.multicast(0, "chat", 0, "x")).rejects.toMatchObject({ _tag: "IllegalService", code: IllegalService.code })
    await expect(connection.multicast("safe", "chat", 0, new Uint8Array(143_120))).rejects.toMatchObject({ code: MessageTooLong.code })
    await connection.disconnect()
    await daemon.close()
  })

  it("connect rejects with the handshake error", async () => {
    const fixture = loadFixture("04")
    const daemon = await startScriptedDaemon(stepsOf(fixture, "alice_dup"), { transport: "tcp", chunking: "whole" })
    const error = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "alice" }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RejectNotUnique)
    expect((error as RejectNotUnique).code).toBe(-6)
    await daemon.close()
    await expect(SpreadConnection.connect({ spreadName: "/nonexistent/spread" })).rejects.toBeInstanceOf(CouldNotConnect)
  })

  it("reports a lost connection to error listeners and to iterations", async () => {
    const fixture = loadFixture("10")
    // alice's steps up to her join's membership, then the daemon goes away.
    const steps = stepsOf(fixture, "alice")
    const upToMembership = steps.slice(0, steps.findIndex((s) => s.decoded?.kind === "message") + 1)
    const daemon = await startScriptedDaemon([...upToMembership, { dir: "d2c", conn: "alice", event: "eof" }], { transport: "tcp", chunking: "odd" })
    const connection = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "alice" })
    const errors: Array<unknown> = []
    connection.on("error", (e) => errors.push(e))
    await connection.join("chat")
    const tags: Array<string> = []
    const failure = await (async () => {
      for await (const m of connection) tags.push(m._tag)
    })().catch((e: unknown) => e)
    expect(tags).toEqual(["Membership"])
    expect(failure).toBeInstanceOf(ConnectionClosed)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(ConnectionClosed)
    await connection.disconnect()
    await daemon.close()
  })

  it("keeps call order when many calls are made without awaiting", async () => {
    const daemon = await startEchoDaemon()
    const connection = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "order" })
    const n = 50_000
    const got: Array<number> = []
    const all = new Promise<void>((resolve) =>
      connection.on("message", (m) => {
        if (m._tag === "Data") got.push(m.data.readUInt32LE(0))
        if (got.length === n) resolve()
      })
    )
    const calls: Array<Promise<void>> = []
    const payload = Buffer.alloc(300)
    for (let i = 0; i < n; i++) {
      payload.writeUInt32LE(i, 0)
      calls.push(connection.multicast("fifo", "chat", 0, Buffer.from(payload)))
    }
    await Promise.all(calls)
    await all
    expect(got.every((v, i) => v === i)).toBe(true)
    await connection.disconnect()
    await daemon.close()
  })

  it("disconnect does not wait for an iteration that stopped reading", async () => {
    const daemon = await startEchoDaemon()
    const connection = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "lazy" })
    const iterator = connection[Symbol.asyncIterator]()
    const sends: Array<Promise<void>> = []
    for (let i = 0; i < 20_000; i++) sends.push(connection.multicast("fifo", "chat", 0, "x"))
    await Promise.all(sends)
    expect((await iterator.next()).done).toBe(false)
    await new Promise((r) => setTimeout(r, 300))
    await connection.disconnect()
    // What the iteration had buffered is still there; then it ends.
    let rest = 0
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest++
    expect(rest).toBeGreaterThan(0)
    expect(rest).toBeLessThan(20_000)
    await daemon.close()
  })
})
