/**
 * The client's errors (client-protocol §9): each one from the situation that really causes it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Queue, Scope } from "effect"
import * as net from "node:net"
import {
  AGREED_MESS,
  ConnectionClosed,
  CouldNotConnect,
  IllegalGroup,
  IllegalMessage,
  IllegalService,
  IllegalSession,
  IllegalSpread,
  IllegalTime,
  MessageTooLong,
  NetErrorOnSession,
  BufferTooShort,
  GroupsTooShort,
  IllegalTime as IllegalTimeError,
  RejectAuth,
  RejectIllegalName,
  RejectNoName,
  RejectNotUnique,
  RejectQuota,
  RejectVersion,
  SAFE_MESS,
  SpBug,
  SELF_DISCARD,
  type SpreadError,
  SpreadClient
} from "../../src/Client/index.js"
import { readHeader } from "../../src/Protocol/index.js"
import { collect } from "./Replay.js"
import { startScriptedDaemon, type Step } from "./ScriptedDaemon.js"

const CONNECT_ALICE = "0500010105616c696365"
const AUTH_LIST = "054e554c4c20"
const CHOICE_NULL = "4e554c4c" + "00".repeat(86)
const ACCEPT_ALICE = "010500010c23616c696365236e6f646531"
/** The client's KILL_MESS and the daemon's close that follows it. */
const disconnect: ReadonlyArray<Step> = [
  { dir: "c2d", conn: "alice", hex: "8000048023616c696365236e6f646531000000000000000000000000000000000000000001000000800000800000000023616c696365236e6f6465310000000000000000000000000000000000000000" },
  { dir: "d2c", conn: "alice", event: "eof" }
]
const HANDSHAKE_BYTES = (CONNECT_ALICE.length + CHOICE_NULL.length) / 2

const handshake: ReadonlyArray<Step> = [
  { dir: "c2d", conn: "alice", hex: CONNECT_ALICE },
  { dir: "d2c", conn: "alice", hex: AUTH_LIST },
  { dir: "c2d", conn: "alice", hex: CHOICE_NULL },
  { dir: "d2c", conn: "alice", hex: ACCEPT_ALICE }
]

/** The failure of `exit`, which must be a typed one. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  expect(Exit.isFailure(exit)).toBe(true)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const reason = exit.cause.reasons.find(Cause.isFailReason)
  if (reason === undefined) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return reason.error
}

const expectError = (error: SpreadError, cls: { readonly code: number; new(...args: any): SpreadError }) => {
  expect(error).toBeInstanceOf(cls)
  expect(error.code).toBe(cls.code)
}

/** A scripted daemon that accepts alice and then plays `after`. */
const daemonWith = (after: ReadonlyArray<Step>, transport: "tcp" | "unix" = "tcp") =>
  Effect.acquireRelease(
    Effect.promise(() => startScriptedDaemon([...handshake, ...after], { transport, chunking: "odd", holdOpen: after.length === 0 })),
    (d) => Effect.promise(() => d.close())
  )

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

describe("connect errors", () => {
  for (const name of ["bogus", "24873@", "@localhost", "4803host", "0", "70000", "-1", "48 03", `4803@${"h".repeat(80)}`]) {
    it.effect(`ILLEGAL_SPREAD for ${JSON.stringify(name.slice(0, 20))}`, () =>
      Effect.gen(function*() {
        const exit = yield* SpreadClient.make({ spreadName: name }).pipe(Effect.scoped, Effect.exit)
        expectError(failureOf(exit), IllegalSpread)
      }))
  }

  it.live("COULD_NOT_CONNECT when nothing listens on the TCP port", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(freePort)
      const exit = yield* SpreadClient.make({ spreadName: `${port}@127.0.0.1` }).pipe(Effect.scoped, Effect.exit)
      expectError(failureOf(exit), CouldNotConnect)
    }))

  it.live("COULD_NOT_CONNECT when the Unix socket does not exist", () =>
    Effect.gen(function*() {
      const exit = yield* SpreadClient.make({ spreadName: "/nonexistent-dir/spread.sock" }).pipe(Effect.scoped, Effect.exit)
      expectError(failureOf(exit), CouldNotConnect)
    }))

  for (const timeout of [-1, "-5 seconds", "soon"] as const) {
    it.effect(`ILLEGAL_TIME for timeout ${JSON.stringify(timeout)}`, () =>
      Effect.gen(function*() {
        const exit = yield* SpreadClient.make({ spreadName: "4803@127.0.0.1", timeout: timeout as never }).pipe(Effect.scoped, Effect.exit)
        expectError(failureOf(exit), IllegalTime)
      }))
  }

  it.live("CONNECTION_CLOSED when the daemon never answers within the timeout", () =>
    Effect.gen(function*() {
      const daemon = yield* Effect.acquireRelease(
        Effect.promise(() => startScriptedDaemon(handshake, { transport: "unix", chunking: "whole", neverAnswer: true })),
        (d) => Effect.promise(() => d.close())
      )
      const started = Date.now()
      const exit = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice", timeout: "200 millis" }).pipe(Effect.scoped, Effect.exit)
      expectError(failureOf(exit), ConnectionClosed)
      expect(Date.now() - started).toBeGreaterThanOrEqual(190)
      expect(Date.now() - started).toBeLessThan(5_000)
    }).pipe(Effect.scoped))

  it.live("CONNECTION_CLOSED when the daemon closes silently after the connect message (§3.9)", () =>
    Effect.gen(function*() {
      const daemon = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startScriptedDaemon([handshake[0]!, { dir: "d2c", conn: "alice", event: "eof" }], { transport: "tcp", chunking: "whole" })
        ),
        (d) => Effect.promise(() => d.close())
      )
      const exit = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" }).pipe(Effect.scoped, Effect.exit)
      expectError(failureOf(exit), ConnectionClosed)
    }).pipe(Effect.scoped))

  it.live("REJECT_AUTH without sending a choice when the daemon does not offer NULL (§3.5)", () =>
    Effect.gen(function*() {
      const daemon = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startScriptedDaemon([handshake[0]!, { dir: "d2c", conn: "alice", hex: "03495020" }], { transport: "tcp", chunking: "bytewise" })
        ),
        (d) => Effect.promise(() => d.close())
      )
      const exit = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" }).pipe(Effect.scoped, Effect.exit)
      expectError(failureOf(exit), RejectAuth)
      expect(yield* Effect.promise(() => daemon.finished)).toEqual([])
      expect(daemon.received().toString("hex")).toBe(CONNECT_ALICE)
    }).pipe(Effect.scoped))
})

describe("handshake replies", () => {
  /** Connects alice to a daemon that plays `daemonSide` after reading her connect message. */
  const answer = (replies: ReadonlyArray<Step>, options: { readonly priority?: number } = {}) =>
    Effect.gen(function*() {
      const daemon = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startScriptedDaemon([{ dir: "c2d", conn: "alice", hex: CONNECT_ALICE }, ...replies], {
            transport: "tcp",
            chunking: "bytewise",
            checkClientBytes: options.priority === undefined
          })
        ),
        (d) => Effect.promise(() => d.close())
      )
      return yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice", ...options }).pipe(Effect.scoped, Effect.exit)
    }).pipe(Effect.scoped)

  const cases: ReadonlyArray<[string, string, { readonly code: number; new(...args: any): SpreadError }]> = [
    ["fd", "REJECT_QUOTA", RejectQuota],
    ["fc", "REJECT_NO_NAME", RejectNoName],
    ["fb", "REJECT_ILLEGAL_NAME", RejectIllegalName],
    ["fa", "REJECT_NOT_UNIQUE", RejectNotUnique],
    ["f9", "REJECT_VERSION", RejectVersion],
    ["f7", "REJECT_AUTH", RejectAuth],
    ["f0", "an unknown reject byte: CONNECTION_CLOSED", ConnectionClosed],
    ["64", "an auth list longer than 90: CONNECTION_CLOSED", ConnectionClosed]
  ]
  for (const [byte, what, cls] of cases) {
    it.live(`first byte ${byte}: ${what}`, () =>
      Effect.gen(function*() {
        const exit = yield* answer([{ dir: "d2c", conn: "alice", hex: byte }, { dir: "d2c", conn: "alice", event: "eof" }])
        expectError(failureOf(exit), cls)
      }))
  }

  it.live("REJECT_AUTH in place of the accept", () =>
    Effect.gen(function*() {
      const exit = yield* answer([handshake[1]!, handshake[2]!, { dir: "d2c", conn: "alice", hex: "f7" }, { dir: "d2c", conn: "alice", event: "eof" }])
      expectError(failureOf(exit), RejectAuth)
    }))

  it.live("REJECT_VERSION for a daemon older than 3", () =>
    Effect.gen(function*() {
      const exit = yield* answer([handshake[1]!, handshake[2]!, { dir: "d2c", conn: "alice", hex: "010200000c23616c696365236e6f646531" }])
      expectError(failureOf(exit), RejectVersion)
    }))

  it.live("REJECT_VERSION for a priority against a 3.7 daemon; the flag is 0x10 (§3.2, §3.7)", () =>
    Effect.gen(function*() {
      const exit = yield* answer([handshake[1]!, handshake[2]!, { dir: "d2c", conn: "alice", hex: "010307000c23616c696365236e6f646531" }], { priority: 1 })
      expectError(failureOf(exit), RejectVersion)
    }))

  it.live("CONNECTION_CLOSED for a malformed accept (private group of 32 bytes)", () =>
    Effect.gen(function*() {
      const exit = yield* answer([handshake[1]!, handshake[2]!, { dir: "d2c", conn: "alice", hex: "0105000120" + "61".repeat(32) }])
      expectError(failureOf(exit), ConnectionClosed)
    }))

  it.live("the priority flag and the truncated private name in the connect message", () =>
    Effect.gen(function*() {
      const daemon = yield* Effect.acquireRelease(
        Effect.promise(() => startScriptedDaemon(handshake, { transport: "tcp", chunking: "whole", neverAnswer: true })),
        (d) => Effect.promise(() => d.close())
      )
      yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "abcdefghijkl", priority: 3, groupMembership: false, timeout: 200 }).pipe(
        Effect.scoped,
        Effect.exit
      )
      expect(daemon.received().toString("hex")).toBe("050001100a" + Buffer.from("abcdefghij").toString("hex"))
    }).pipe(Effect.scoped))
})

describe("the error classes", () => {
  it("carry every sp.h code", () => {
    const all = [
      [IllegalSpread, -1, "ILLEGAL_SPREAD"],
      [CouldNotConnect, -2, "COULD_NOT_CONNECT"],
      [RejectQuota, -3, "REJECT_QUOTA"],
      [RejectNoName, -4, "REJECT_NO_NAME"],
      [RejectIllegalName, -5, "REJECT_ILLEGAL_NAME"],
      [RejectNotUnique, -6, "REJECT_NOT_UNIQUE"],
      [RejectVersion, -7, "REJECT_VERSION"],
      [ConnectionClosed, -8, "CONNECTION_CLOSED"],
      [RejectAuth, -9, "REJECT_AUTH"],
      [IllegalSession, -11, "ILLEGAL_SESSION"],
      [IllegalService, -12, "ILLEGAL_SERVICE"],
      [IllegalMessage, -13, "ILLEGAL_MESSAGE"],
      [IllegalGroup, -14, "ILLEGAL_GROUP"],
      [BufferTooShort, -15, "BUFFER_TOO_SHORT"],
      [GroupsTooShort, -16, "GROUPS_TOO_SHORT"],
      [MessageTooLong, -17, "MESSAGE_TOO_LONG"],
      [NetErrorOnSession, -18, "NET_ERROR_ON_SESSION"],
      [SpBug, -19, "SP_BUG"],
      [IllegalTimeError, -20, "ILLEGAL_TIME"]
    ] as const
    for (const [cls, code, name] of all) {
      const error = new cls({ reason: "why" })
      expect(cls.code).toBe(code)
      expect(error.code).toBe(code)
      expect(error.codeName).toBe(name)
      expect(error.message).toBe(`${name} (${code}): why`)
      expect(error).toBeInstanceOf(Error)
    }
    expect(new Set(all.map(([cls]) => new cls({ reason: "" })._tag)).size).toBe(all.length)
  })
})

describe("call errors", () => {
  /** Runs `body` with a session whose daemon expects nothing but the final KILL. */
  const withSession = <A, E>(body: (client: SpreadClient["Service"]) => Effect.Effect<A, E>) =>
    Effect.gen(function*() {
      const daemon = yield* daemonWith(disconnect)
      const scope = yield* Scope.make()
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" }).pipe(Scope.provide(scope))
      const result = yield* body(client)
      yield* Scope.close(scope, Exit.void)
      // Nothing but the KILL reached the daemon: the refused calls wrote nothing.
      expect(yield* Effect.promise(() => daemon.finished)).toEqual([])
      return result
    }).pipe(Effect.scoped)

  it.live("ILLEGAL_GROUP for join and leave names outside 1..31 bytes of 36..126", () =>
    withSession((client) =>
      Effect.gen(function*() {
        for (const group of ["", "x".repeat(32), "a b", "#alice", "tab\t", "caf\u00e9", "\u20ac"]) {
          expectError(failureOf(yield* Effect.exit(client.join(group))), IllegalGroup)
          expectError(failureOf(yield* Effect.exit(client.leave(group))), IllegalGroup)
        }
      })
    ))

  it.live("ILLEGAL_GROUP for more than 100 destinations or a bad destination name", () =>
    withSession((client) =>
      Effect.gen(function*() {
        const many = Array.from({ length: 101 }, (_, i) => `g${i}`)
        expectError(failureOf(yield* Effect.exit(client.multicast("agreed", many, 0, "x"))), IllegalGroup)
        expectError(failureOf(yield* Effect.exit(client.multicast("agreed", "y".repeat(32), 0, "x"))), IllegalGroup)
        expectError(failureOf(yield* Effect.exit(client.multicast("agreed", ["chat", ""], 0, "x"))), IllegalGroup)
      })
    ))

  it.live("ILLEGAL_SERVICE without exactly one service bit", () =>
    withSession((client) =>
      Effect.gen(function*() {
        for (const service of [0, SELF_DISCARD, 0x1000, 0x10000, AGREED_MESS | SAFE_MESS, "bogus" as never]) {
          expectError(failureOf(yield* Effect.exit(client.multicast(service, "chat", 0, "x"))), IllegalService)
        }
      })
    ))

  it.live("MESSAGE_TOO_LONG above data + 32·groups = 143151 (§12 item 1)", () =>
    withSession((client) =>
      Effect.gen(function*() {
        expectError(failureOf(yield* Effect.exit(client.multicast("safe", "chat", 0, new Uint8Array(143_151 - 32 + 1)))), MessageTooLong)
        expectError(failureOf(yield* Effect.exit(client.multicast("safe", ["a", "b"], 0, new Uint8Array(143_151 - 64 + 1)))), MessageTooLong)
        expectError(failureOf(yield* Effect.exit(client.multicast("safe", "chat", 0, new Uint8Array(200_000)))), MessageTooLong)
      })
    ))

  it.live("ILLEGAL_SESSION after disconnect", () =>
    Effect.gen(function*() {
      const daemon = yield* daemonWith(disconnect)
      const scope = yield* Scope.make()
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" }).pipe(Scope.provide(scope))
      yield* Scope.close(scope, Exit.void)
      expect(yield* Effect.promise(() => daemon.finished)).toEqual([])
      expectError(failureOf(yield* Effect.exit(client.join("chat"))), IllegalSession)
      expectError(failureOf(yield* Effect.exit(client.multicast("agreed", "chat", 0, "x"))), IllegalSession)
    }).pipe(Effect.scoped))
})

describe("what reaches the wire", () => {
  it.live("only service bits and SELF_DISCARD, the 16-bit mess_type and the flags (§4.4, §12 item 6)", () =>
    Effect.gen(function*() {
      const daemon = yield* daemonWith([])
      const scope = yield* Scope.make()
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" }).pipe(Scope.provide(scope))
      yield* client.multicast(AGREED_MESS | SELF_DISCARD | 0x1000 | 0x01000000, "chat", -2, "xyz")
      yield* client.multicast("fifo", ["a", "#bob#node1"], 32767, new Uint8Array([1, 2]), { selfDiscard: true })
      yield* client.multicast("safe", "chat", 0, new Uint8Array(143_151 - 32))
      yield* Scope.close(scope, Exit.void)
      yield* Effect.promise(() => daemon.finished)
      const bytes = daemon.received().subarray(HANDSHAKE_BYTES)
      const first = readHeader(bytes)
      expect(first.type >>> 0).toBe((0x80000080 | AGREED_MESS | SELF_DISCARD) >>> 0)
      expect(bytes.readUInt32LE(40)).toBe(0x80fffe80)
      expect(first.numGroups).toBe(1)
      expect(first.dataLen).toBe(3)
      const secondAt = 48 + 32 + 3
      const second = readHeader(bytes, secondAt)
      expect(second.type >>> 0).toBe((0x80000080 | 0x04 | SELF_DISCARD) >>> 0)
      expect(bytes.readUInt32LE(secondAt + 40)).toBe(0x807fff80)
      expect(bytes.toString("latin1", secondAt + 48 + 32, secondAt + 48 + 32 + 10)).toBe("#bob#node1")
      const thirdAt = secondAt + 48 + 64 + 2
      expect(readHeader(bytes, thirdAt).dataLen).toBe(143_151 - 32)
      // Then the KILL, and nothing else.
      const killAt = thirdAt + 48 + 32 + 143_151 - 32
      expect(readHeader(bytes, killAt).type >>> 0).toBe(0x80040080)
      expect(bytes.length).toBe(killAt + 80)
    }).pipe(Effect.scoped))
})

describe("receive errors", () => {
  const JOIN_ALONE =
    "80110080636861740000000000000000000000000000000000000000000000000000000001000000800000803800000023616c696365236e6f6465310000000000000000000000000000000000000000959b5c1d762d076b0100000001000000000000000100000023616c696365236e6f6465310000000000000000000000000000000000000000"

  it.live("CONNECTION_CLOSED when the daemon closes in the middle of a message, then NET_ERROR_ON_SESSION", () =>
    Effect.gen(function*() {
      const daemon = yield* daemonWith([
        { dir: "d2c", conn: "alice", hex: JOIN_ALONE },
        { dir: "d2c", conn: "alice", hex: JOIN_ALONE.slice(0, 100) },
        { dir: "d2c", conn: "alice", event: "eof" }
      ])
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" })
      const inbox = yield* collect(client)
      const first = yield* Queue.take(inbox)
      expect(first._tag).toBe("Membership")
      expectError(failureOf(yield* Effect.exit(Queue.take(inbox))) as SpreadError, ConnectionClosed)
      expectError(failureOf(yield* Effect.exit(client.join("chat"))), ConnectionClosed)
      expectError(failureOf(yield* Effect.exit(client.join("chat"))), NetErrorOnSession)
    }).pipe(Effect.scoped))

  it.live("ILLEGAL_MESSAGE on a negative data_len; the session is closed (§12 item 7)", () =>
    Effect.gen(function*() {
      const broken = Buffer.from(JOIN_ALONE.slice(0, 96), "hex")
      broken.writeInt32LE(-1, 44)
      const daemon = yield* daemonWith([
        { dir: "d2c", conn: "alice", hex: JOIN_ALONE },
        { dir: "d2c", conn: "alice", hex: broken.toString("hex") }
      ])
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" })
      const inbox = yield* collect(client)
      expect((yield* Queue.take(inbox))._tag).toBe("Membership")
      expectError(failureOf(yield* Effect.exit(Queue.take(inbox))) as SpreadError, IllegalMessage)
    }).pipe(Effect.scoped))

  it.live("the stream ends (no error) at disconnect", () =>
    Effect.gen(function*() {
      const daemon = yield* daemonWith([{ dir: "d2c", conn: "alice", hex: JOIN_ALONE }, ...disconnect], "unix")
      const scope = yield* Scope.make()
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice" }).pipe(Scope.provide(scope))
      const inbox = yield* collect(client)
      expect((yield* Queue.take(inbox))._tag).toBe("Membership")
      expect(yield* client.poll).toBe(0)
      yield* Scope.close(scope, Exit.void)
      expect(Cause.isDone(failureOf(yield* Effect.exit(Queue.take(inbox))))).toBe(true)
      expect(yield* Effect.promise(() => daemon.finished)).toEqual([])
    }).pipe(Effect.scoped))
})

describe("the Layer", () => {
  it.live("provides a connected session and disconnects when its scope closes", () =>
    Effect.gen(function*() {
      const daemon = yield* daemonWith([
        { dir: "c2d", conn: "alice", hex: "8000018023616c696365236e6f64653100000000000000000000000000000000000000000100000080000080000000006368617400000000000000000000000000000000000000000000000000000000" },
        ...disconnect
      ], "unix")
      const joined = yield* SpreadClient.use((client) => Effect.as(client.join("chat"), client.privateGroup)).pipe(
        Effect.provide(SpreadClient.layer({ spreadName: daemon.spreadName, privateName: "alice" }))
      )
      expect(joined).toBe("#alice#node1")
      expect(yield* Effect.promise(() => daemon.finished)).toEqual([])
    }).pipe(Effect.scoped))

  it.effect("fails to build with the connect error", () =>
    Effect.gen(function*() {
      const exit = yield* SpreadClient.use((c) => Effect.succeed(c.privateGroup)).pipe(Effect.provide(SpreadClient.layer({ spreadName: "bogus" })), Effect.exit)
      expectError(failureOf(exit), IllegalSpread)
    }))
})
