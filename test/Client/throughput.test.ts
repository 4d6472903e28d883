/**
 * The hot path: a flood of 100-byte multicasts through an echo daemon, each received back.
 * Every message must come back; the rate is printed (speed targets live in bench/, not in tests).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { SpreadClient, SpreadConnection } from "../../src/Client/index.js"
import { startEchoDaemon } from "./EchoDaemon.js"

const N = 100_000
const payload = Buffer.alloc(100, 0x61)

describe("throughput against an echo daemon", () => {
  it.live(`Effect API: ${N} multicasts of 100 bytes, all received back`, () =>
    Effect.gen(function*() {
      const daemon = yield* Effect.acquireRelease(Effect.promise(startEchoDaemon), (d) => Effect.promise(d.close))
      const client = yield* SpreadClient.make({ spreadName: daemon.spreadName, privateName: "flood" })
      const received = yield* client.messages.pipe(Stream.take(N), Stream.runCount, Effect.forkScoped)
      const started = performance.now()
      for (let i = 0; i < N; i++) yield* client.multicast("agreed", "chat", i & 0x7fff, payload)
      const count = yield* Fiber.join(received)
      const seconds = (performance.now() - started) / 1000
      console.log(`Effect API: ${Math.round(N / seconds)} messages/s sent and received (${seconds.toFixed(3)} s)`)
      expect(count).toBe(N)
    }).pipe(Effect.scoped))

  it.live(`facade: ${N} multicasts of 100 bytes, all received back`, () =>
    Effect.promise(async () => {
      const daemon = await startEchoDaemon()
      const connection = await SpreadConnection.connect({ spreadName: daemon.spreadName, privateName: "flood" })
      let count = 0
      const all = new Promise<void>((resolve) =>
        connection.on("message", () => {
          if (++count === N) resolve()
        })
      )
      const started = performance.now()
      const sends: Array<Promise<void>> = []
      for (let i = 0; i < N; i++) sends.push(connection.multicast("agreed", "chat", 0, payload))
      await Promise.all(sends)
      await all
      const seconds = (performance.now() - started) / 1000
      console.log(`facade: ${Math.round(N / seconds)} messages/s sent and received (${seconds.toFixed(3)} s)`)
      await connection.disconnect()
      await daemon.close()
      expect(count).toBe(N)
    }))
})
