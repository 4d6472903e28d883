#!/usr/bin/env -S node --initial-old-space-size=64
/**
 * `spread`: the daemon's entry point. Parses the flags, loads the configuration, and runs the
 * daemon Layer until SIGINT/SIGTERM (NodeRuntime.runMain interrupts it, closing every session).
 *
 * The V8 flag in the first line (also in `npm start`) matters for throughput: every socket read
 * allocates a fresh 64 KiB buffer, and with V8's default tiny initial old space that churn starts
 * a mark-compact every few tens of milliseconds (30 % of the time at 10 KB messages). Started
 * as plain `node dist/Daemon/main.js` the daemon works the same, only slower on large messages.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Runtime from "effect/Runtime"
import { setFlagsFromString } from "node:v8"
import { type DaemonFlags, parseFlags, USAGE } from "./Cli.js"
import { SpreadDaemon } from "./Daemon.js"
import { checkConfig, daemonOptions } from "./Options.js"

/**
 * Node carves `Buffer.allocUnsafe` allocations below half the pool size from a shared slab; with
 * the default 8 KiB pool every batch of deliveries (often tens of KiB) is an ArrayBuffer of its
 * own, and their churn drives the garbage collector. 1 MiB slabs serve them instead.
 */
Buffer.poolSize = 1024 * 1024

/**
 * Every byte a client sends passes through buffers outside V8's heap (socket reads, deliveries),
 * and V8 by default starts a full mark-compact after each 64 MiB of such external memory: at
 * 10 KB messages that was a mark-compact every ~80 ms, and its concurrent marking took as much
 * CPU as the daemon's own work. Counted within the heap's global limit instead, external memory
 * is collected by the young generation as the short-lived garbage it is (measured: no
 * mark-compact in a 100,000-message flood, daemon CPU −40 %). Set before any allocation of note.
 */
setFlagsFromString("--external-memory-accounted-in-global-limit")

const run = (flags: DaemonFlags) =>
  Effect.gen(function*() {
    const startup = yield* daemonOptions(flags)
    yield* Effect.logInfo(`configuration hash 0x${startup.hash.toString(16).padStart(8, "0")}`).pipe(
      Effect.annotateLogs({ daemon: startup.me.name, id: `0x${startup.me.id.toString(16)}`, rank: startup.me.rank })
    )
    // Runs until a signal interrupts it, or the ring engine exits (a monitor kill).
    const code = yield* SpreadDaemon.use((daemon) => daemon.exited).pipe(Effect.provide(SpreadDaemon.layer(startup.options)))
    process.exitCode = code
  }).pipe(Effect.provideService(References.MinimumLogLevel, flags.logLevel))

const program = Effect.gen(function*() {
  const flags = yield* Effect.try({ try: () => parseFlags(process.argv.slice(2)), catch: (e) => e as Error })
  if (flags.help) return yield* Console.log(USAGE)
  if (flags.checkConfig) return yield* checkConfig(flags)
  return yield* run(flags)
}).pipe(
  Effect.tapError((e) => Console.error(`spread: ${e.message}`)),
  Effect.provide(Logger.layer([Logger.consoleLogFmt]))
)

/** A signal that stops the daemon is its normal end: exit 0 once every session is closed. */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
