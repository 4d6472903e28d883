/**
 * The client against a scripted daemon playing the golden vectors captured from a real Spread
 * 5.0.1 daemon (test/fixtures/README.md, "Our client against a scripted daemon").
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import {
  ConnectionClosed,
  RejectAuth,
  RejectIllegalName,
  RejectNotUnique,
  RejectVersion,
  SpreadClient
} from "../../src/Client/index.js"
import { replayConnection } from "./Replay.js"
import { loadFixture, startScriptedDaemon, stepsOf } from "./ScriptedDaemon.js"

const sessions: ReadonlyArray<[string, string]> = [
  ["01", "alice"],
  ["02", "alice"],
  ["10", "alice"],
  ["11", "alice"],
  ["11", "bob"],
  ["12", "alice"],
  ["12", "bob"],
  ["13", "alice"],
  ["13", "bob"],
  ["14", "alice"],
  ["14", "bob"],
  ["15", "alice"],
  ["15", "bob"],
  ["16", "alice"],
  ["16", "bob"],
  ["17", "alice"],
  ["17", "bob"],
  ["18", "alice"],
  ["18", "bob"],
  ["19", "alice"],
  ["19", "bob"],
  ["20", "alice"],
  ["20", "bob"],
  ["21", "alice"],
  ["22", "alice"]
]

describe("golden vectors, one connection at a time", () => {
  for (const [file, conn] of sessions) {
    const fixture = loadFixture(file)
    const large = file === "18"
    it.live(`${fixture.name} as ${conn} over TCP in odd-sized writes`, () =>
      replayConnection(fixture, conn, { transport: "tcp", chunking: "odd" }).pipe(
        Effect.map((delivered) => expect(delivered).toBe(stepsOf(fixture, conn).filter((s) => s.dir === "d2c" && s.decoded?.kind === "message").length))
      ))
    it.live(`${fixture.name} as ${conn} over a Unix socket${large ? " in odd-sized writes" : " one byte at a time"}`, () =>
      replayConnection(fixture, conn, { transport: "unix", chunking: large ? "odd" : "bytewise" }))
  }
})

describe("handshake rejects from the vectors", () => {
  const rejectCase = (file: string, conn: string, expected: { readonly _tag: string; readonly code: number }) =>
    it.live(`${file} ${conn}: ${expected._tag}`, () =>
      Effect.gen(function*() {
        const fixture = loadFixture(file)
        const info = fixture.connections[conn]!
        for (const chunking of ["bytewise", "whole"] as const) {
          const daemon = yield* Effect.promise(() =>
            // Our client cannot send version 2.0.0, an 11-byte name, or the FOO method; the
            // daemon's answer is what matters there, so only the lengths are compared.
            startScriptedDaemon(stepsOf(fixture, conn), { transport: "tcp", chunking, checkClientBytes: file === "04" })
          )
          const exit = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: info.private_name ?? "" }).pipe(Effect.scoped, Effect.exit)
          expect(Exit.isFailure(exit)).toBe(true)
          if (Exit.isFailure(exit)) {
            const error = exit.cause.reasons.find((r) => r._tag === "Fail")
            expect(error?._tag === "Fail" && error.error._tag).toBe(expected._tag)
            expect(error?._tag === "Fail" && error.error.code).toBe(expected.code)
          }
          yield* Effect.promise(() => daemon.close())
        }
      }))
  rejectCase("03", "old", { _tag: "RejectVersion", code: RejectVersion.code })
  rejectCase("04", "alice_dup", { _tag: "RejectNotUnique", code: RejectNotUnique.code })
  for (const conn of ["hash", "space", "highbyte", "toolong"]) {
    rejectCase("05", conn, { _tag: "RejectIllegalName", code: RejectIllegalName.code })
  }
  rejectCase("08", "alice", { _tag: "RejectAuth", code: RejectAuth.code })

  it.live("07: an empty name makes the daemon invent one", () =>
    Effect.gen(function*() {
      const fixture = loadFixture("07")
      const daemon = yield* Effect.promise(() => startScriptedDaemon(stepsOf(fixture, "anon"), { transport: "tcp", chunking: "bytewise" }))
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName }).pipe(Effect.scoped)
      expect(client.privateGroup).toMatch(/^#[\x24-\x7e]{1,10}#node1$/)
      expect(client.privateGroup).toBe("#r1083-9#node1")
      expect(yield* Effect.promise(() => daemon.finished)).toEqual([])
      yield* Effect.promise(() => daemon.close())
    }))

  it.live("the connect message is written whole and the choice only after the auth list", () =>
    Effect.gen(function*() {
      const fixture = loadFixture("01")
      // The daemon never answers: the client must have written (A) and nothing else.
      const daemon = yield* Effect.promise(() => startScriptedDaemon(stepsOf(fixture, "alice"), { transport: "tcp", chunking: "whole", neverAnswer: true }))
      const exit = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "alice", timeout: 300 }).pipe(Effect.scoped, Effect.exit)
      expect(Exit.isFailure(exit) && exit.cause.reasons.some((r) => r._tag === "Fail" && r.error instanceof ConnectionClosed)).toBe(true)
      expect(daemon.received().toString("hex")).toBe("0500010105616c696365")
      yield* Effect.promise(() => daemon.close())
    }))
})
