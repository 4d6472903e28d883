/**
 * The client against our daemon (`dist/Daemon/main.js`, built by `npm run build`), started on a
 * random port: two clients over TCP and the Unix socket join, multicast with all six services,
 * leave, get their self-leave and disconnect; then the facade does the same basics.
 * Skipped when the daemon has not been built.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Queue, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, rmSync } from "node:fs"
import * as net from "node:net"
import { fileURLToPath } from "node:url"
import {
  AGREED_MESS,
  CAUSAL_MESS,
  equalGroupIds,
  FIFO_MESS,
  type MembershipMessage,
  type ReceiveError,
  RejectNotUnique,
  RELIABLE_MESS,
  SAFE_MESS,
  SELF_DISCARD,
  SpreadClient,
  type SpreadClientService,
  SpreadConnection,
  type SpreadMessage,
  UNRELIABLE_MESS
} from "../../src/Client/index.js"
import { collect } from "./Replay.js"

const daemonMain = fileURLToPath(new URL("../../dist/Daemon/main.js", import.meta.url))
const built = existsSync(daemonMain)

/** A port whose successor is free too (the daemon's ring uses port + 1). */
const freePortPair = async (): Promise<number> => {
  const tryListen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer()
      server.once("error", () => resolve(false))
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
    })
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 40_000)
    if ((await tryListen(port)) && (await tryListen(port + 1)) && !existsSync(`/tmp/${port}`)) return port
  }
}

let port = 0
let child: ChildProcess | undefined
let output = ""

/** Connects until the daemon answers (no reliance on its "ready" line). */
const waitForDaemon = async (): Promise<void> => {
  const deadline = Date.now() + 20_000
  for (let attempt = 0; ; attempt++) {
    const exit = await Effect.runPromiseExit(
      SpreadClient.make({ spreadName: `${port}@127.0.0.1`, privateName: `probe${attempt % 1000}`, timeout: "1 second" }).pipe(Effect.scoped)
    )
    if (Exit.isSuccess(exit)) return
    if (Date.now() > deadline || child?.exitCode != null) throw new Error(`daemon did not come up: ${Cause.pretty(exit.cause)}\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const TAKE_TIMEOUT = Duration.seconds(5)

/** The next message, failing the test instead of hanging. */
const next = (inbox: Queue.Dequeue<SpreadMessage, ReceiveError | Cause.Done>) =>
  Queue.take(inbox).pipe(
    Effect.timeoutOrElse({ duration: TAKE_TIMEOUT, orElse: () => Effect.die(new Error("no message within 5 s")) }),
    Effect.orDie
  )

const nextMembership = (inbox: Queue.Dequeue<SpreadMessage, ReceiveError | Cause.Done>) =>
  Effect.map(next(inbox), (m) => {
    expect(m._tag).toBe("Membership")
    return m as MembershipMessage
  })

/** A session in its own scope, so a test can disconnect it in the middle. */
const session = (privateName: string, transport: "tcp" | "unix") =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const client = yield* SpreadClient.make({
      spreadName: transport === "tcp" ? `${port}@127.0.0.1` : String(port),
      privateName,
      timeout: "5 seconds"
    }).pipe(Scope.provide(scope))
    const inbox = yield* collect(client).pipe(Scope.provide(scope))
    return { client, inbox, disconnect: Scope.close(scope, Exit.void) }
  })

describe.skipIf(!built)("against our daemon (dist/Daemon/main.js)", () => {
  beforeAll(async () => {
    port = await freePortPair()
    child = spawn(process.execPath, [daemonMain, "-p", String(port), "-n", "node1"], { stdio: ["ignore", "pipe", "pipe"] })
    child.stdout!.on("data", (b) => (output += b))
    child.stderr!.on("data", (b) => (output += b))
    await waitForDaemon()
  }, 30_000)

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r))
      child.kill("SIGTERM")
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))])
      if (child.exitCode === null) child.kill("SIGKILL")
    }
    rmSync(`/tmp/${port}`, { force: true })
  })

  it.live("join, all six services, self-discard, private and multigroup messages, leave, self-leave, disconnect", () =>
    Effect.gen(function*() {
      const alice = yield* session("alice", "tcp")
      const bob = yield* session("bob", "unix")
      const aliceGroup = alice.client.privateGroup
      const bobGroup = bob.client.privateGroup
      expect(aliceGroup).toBe("#alice#node1")
      expect(bobGroup).toBe("#bob#node1")

      yield* alice.client.join("chat")
      const alone = yield* nextMembership(alice.inbox)
      expect(alone).toMatchObject({ cause: "join", group: "chat", members: [aliceGroup], changedMember: aliceGroup, myIndex: 0 })
      expect(alone.vsSets).toEqual([[aliceGroup]])

      yield* bob.client.join("chat")
      const seenByAlice = yield* nextMembership(alice.inbox)
      const seenByBob = yield* nextMembership(bob.inbox)
      expect(seenByAlice).toMatchObject({ cause: "join", members: [aliceGroup, bobGroup], changedMember: bobGroup, myIndex: 0 })
      expect(seenByBob).toMatchObject({ cause: "join", members: [aliceGroup, bobGroup], changedMember: bobGroup, myIndex: 1 })
      expect(equalGroupIds(seenByAlice.groupId, seenByBob.groupId)).toBe(true)
      expect(equalGroupIds(seenByAlice.groupId, alone.groupId)).toBe(false)

      // All six services, each with its own mess_type; both members get each (no self-discard).
      const services = [UNRELIABLE_MESS, RELIABLE_MESS, FIFO_MESS, CAUSAL_MESS, AGREED_MESS, SAFE_MESS]
      for (const [i, service] of services.entries()) yield* alice.client.multicast(service, "chat", i - 3, `service ${service}`)
      for (const inbox of [alice.inbox, bob.inbox]) {
        for (const [i, service] of services.entries()) {
          const m = yield* next(inbox)
          expect(m).toMatchObject({ _tag: "Data", serviceType: service, sender: aliceGroup, groups: ["chat"], messType: i - 3, endianMismatch: false })
          if (m._tag === "Data") expect(m.data.toString()).toBe(`service ${service}`)
        }
      }

      // SELF_DISCARD: bob gets both, alice only the marker.
      yield* alice.client.multicast("agreed", "chat", 8, "not for alice", { selfDiscard: true })
      yield* alice.client.multicast("agreed", "chat", 9, "marker")
      expect(yield* next(bob.inbox)).toMatchObject({ _tag: "Data", serviceType: AGREED_MESS | SELF_DISCARD, messType: 8 })
      expect(yield* next(bob.inbox)).toMatchObject({ _tag: "Data", messType: 9 })
      expect(yield* next(alice.inbox)).toMatchObject({ _tag: "Data", messType: 9 })

      // Point to point, to bob's private group, from a big message.
      const big = Buffer.alloc(100_000)
      for (let i = 0; i < big.length; i++) big[i] = i & 0xff
      yield* alice.client.multicast("fifo", bobGroup, 10, big)
      const p2p = yield* next(bob.inbox)
      expect(p2p).toMatchObject({ _tag: "Data", groups: [bobGroup], messType: 10 })
      if (p2p._tag === "Data") expect(Buffer.compare(p2p.data, big)).toBe(0)

      // Several groups: bob, in both, gets the message once.
      yield* bob.client.join("news")
      expect(yield* nextMembership(bob.inbox)).toMatchObject({ group: "news", members: [bobGroup] })
      yield* alice.client.multicast("safe", ["chat", "news"], 11, "both")
      yield* alice.client.multicast("safe", "chat", 12, "after")
      expect(yield* next(bob.inbox)).toMatchObject({ _tag: "Data", groups: ["chat", "news"], messType: 11 })
      expect(yield* next(bob.inbox)).toMatchObject({ _tag: "Data", messType: 12 })
      expect(yield* next(alice.inbox)).toMatchObject({ _tag: "Data", messType: 11 })
      expect(yield* next(alice.inbox)).toMatchObject({ _tag: "Data", messType: 12 })

      // Leave: bob gets his self-leave, alice the leave membership naming bob.
      yield* bob.client.leave("chat")
      expect(yield* next(bob.inbox)).toMatchObject({ _tag: "SelfLeave", group: "chat" })
      const left = yield* nextMembership(alice.inbox)
      expect(left).toMatchObject({ cause: "leave", group: "chat", members: [aliceGroup], changedMember: bobGroup })

      // Disconnect: bob goes; alice, alone in chat, does not hear of it; rejoin and disconnect.
      yield* bob.client.join("chat")
      expect(yield* nextMembership(alice.inbox)).toMatchObject({ cause: "join", changedMember: bobGroup })
      expect(yield* nextMembership(bob.inbox)).toMatchObject({ cause: "join", myIndex: 1 })
      yield* bob.disconnect
      expect(yield* nextMembership(alice.inbox)).toMatchObject({ cause: "disconnect", members: [aliceGroup], changedMember: bobGroup })

      // The name is free again as soon as the disconnect returned (it waits for the close).
      const bobAgain = yield* session("bob", "tcp")
      expect(bobAgain.client.privateGroup).toBe(bobGroup)
      yield* bobAgain.disconnect

      // The last member leaves: only the self-leave.
      yield* alice.client.leave("chat")
      expect(yield* next(alice.inbox)).toMatchObject({ _tag: "SelfLeave", group: "chat" })
      yield* alice.client.multicast("agreed", "chat", 0, "to nobody")
      yield* alice.client.multicast("agreed", aliceGroup, 13, "to myself")
      expect(yield* next(alice.inbox)).toMatchObject({ _tag: "Data", messType: 13 })
      yield* alice.disconnect
    }).pipe(Effect.scoped))

  it.live("a second session with a taken name gets REJECT_NOT_UNIQUE", () =>
    Effect.gen(function*() {
      const first = yield* session("dup", "unix")
      const exit = yield* SpreadClient.make({ spreadName: `${port}@127.0.0.1`, privateName: "dup" }).pipe(Effect.scoped, Effect.exit)
      expect(Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Fail" && r.error instanceof RejectNotUnique)).toBe(true)
      yield* first.disconnect
    }).pipe(Effect.scoped))

  it.live("a session without membership gets data but no membership messages", () =>
    Effect.gen(function*() {
      const quiet = yield* SpreadClient.make({ spreadName: String(port), privateName: "quiet", groupMembership: false })
      const inbox = yield* collect(quiet)
      yield* quiet.join("quiet-room")
      yield* quiet.multicast("reliable", "quiet-room", 5, "hi")
      expect(yield* next(inbox)).toMatchObject({ _tag: "Data", messType: 5 })
    }).pipe(Effect.scoped))

  it.live("a sender that disconnects right after an unpaced flood sends each message once", () =>
    Effect.gen(function*() {
      // Regression: the last callers, resumed as the socket drained, ran on into disconnect,
      // which sent again the entries the drain had already sent (found by the 3-daemon bench).
      const receiver = yield* session("once-rx", "unix")
      yield* receiver.client.join("once")
      yield* nextMembership(receiver.inbox)
      const n = 30_000
      yield* Effect.scoped(Effect.gen(function*() {
        const sender = yield* SpreadClient.make({ spreadName: String(port), privateName: "once-tx" })
        const payload = Buffer.alloc(1000, 1)
        for (let i = 0; i < n; i++) {
          payload.writeUInt32LE(i, 0)
          yield* sender.multicast("agreed", "once", 0, payload)
        }
      }))
      for (let i = 0; i < n; i++) {
        const m = yield* next(receiver.inbox)
        if (m._tag !== "Data" || m.data.readUInt32LE(0) !== i) expect.fail(`message ${i} is ${m._tag === "Data" ? m.data.readUInt32LE(0) : m._tag}`)
      }
      // Nothing after the last one but the sender's departure.
      const after = yield* Queue.take(receiver.inbox).pipe(Effect.timeoutOption(Duration.millis(500)))
      if (after._tag === "Some") expect(after.value._tag).not.toBe("Data")
      yield* receiver.disconnect
    }), 60_000)

  it.live("a message larger than a write buffer goes out in order between small ones, intact", () =>
    Effect.gen(function*() {
      const sender = (yield* session("big-tx", "unix")).client
      const receiver = yield* session("big-rx", "tcp")
      yield* receiver.client.join("big")
      yield* nextMembership(receiver.inbox)
      // 140,000 bytes: more than the client's 128 KiB write buffer, within libspread's limit.
      const big = Buffer.alloc(140_000)
      for (let i = 0; i < big.length; i++) big[i] = i % 251
      yield* sender.multicast("agreed", "big", 1, "before")
      yield* sender.multicast("agreed", "big", 2, big)
      yield* sender.multicast("agreed", "big", 3, "after")
      const got = [yield* next(receiver.inbox), yield* next(receiver.inbox), yield* next(receiver.inbox)]
      expect(got.map((m) => (m._tag === "Data" ? m.messType : m._tag))).toEqual([1, 2, 3])
      const second = got[1]!
      expect(second._tag === "Data" && second.data.equals(big)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("a flood of 20,000 messages arrives complete and in order", () =>
    Effect.gen(function*() {
      const sender: SpreadClientService = (yield* session("flooder", "tcp")).client
      const receiver = yield* session("sink", "unix")
      yield* receiver.client.join("flood")
      yield* nextMembership(receiver.inbox)
      // In windows: sender and receiver share this thread, and a daemon cuts off a receiver
      // that falls 1000 messages behind (client-protocol §8.6).
      const n = 20_000
      const window = 500
      const payload = Buffer.alloc(100)
      for (let start = 0; start < n; start += window) {
        for (let i = start; i < start + window; i++) {
          payload.writeUInt32LE(i, 0)
          yield* sender.multicast("fifo", "flood", 0, Buffer.from(payload))
        }
        for (let i = start; i < start + window; i++) {
          const m = yield* next(receiver.inbox)
          if (m._tag !== "Data" || m.data.readUInt32LE(0) !== i) expect.fail(`message ${i} is ${m._tag}`)
        }
      }
    }).pipe(Effect.scoped))

  it("the facade: join, multicast and listeners over TCP and Unix", async () => {
    const carol = await SpreadConnection.connect({ spreadName: `${port}@127.0.0.1`, privateName: "carol" })
    const dave = await SpreadConnection.connect({ spreadName: String(port), privateName: "dave" })
    const daveGot: Array<string> = []
    const gotHello = new Promise<void>((resolve) =>
      dave.on("message", (m) => {
        if (m._tag === "Data") {
          daveGot.push(m.data.toString())
          resolve()
        }
      })
    )
    const daveViews: Array<number> = []
    dave.on("membership", (m) => {
      if (m._tag === "Membership") daveViews.push(m.members.length)
    })
    await dave.join("facade")
    await carol.join("facade")
    const carolIterator = carol[Symbol.asyncIterator]()
    const first = await carolIterator.next()
    expect(first.value).toMatchObject({ _tag: "Membership", members: ["#dave#node1", "#carol#node1"].sort() })
    await carol.multicast("agreed", "facade", 1, "hello from carol")
    await gotHello
    expect(daveGot).toEqual(["hello from carol"])
    expect(daveViews).toEqual([1, 2])
    await carol.disconnect()
    // Carol is a member too: her own message may have come in before the disconnect; then the
    // iteration ends.
    const rest: Array<unknown> = []
    for (let r = await carolIterator.next(); !r.done; r = await carolIterator.next()) rest.push(r.value)
    expect(rest.length).toBeLessThanOrEqual(1)
    for (const m of rest) expect(m).toMatchObject({ _tag: "Data", sender: "#carol#node1", messType: 1 })
    await dave.disconnect()
  })
})
