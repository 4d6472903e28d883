#!/usr/bin/env node
/**
 * `spread`: the daemon's entry point. Parses the flags, loads the configuration, and runs the
 * daemon Layer until SIGINT/SIGTERM (NodeRuntime.runMain interrupts it, closing every session).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Logger, References, Runtime } from "effect"
import { parseFlags, USAGE } from "./Cli.js"
import { SpreadDaemon } from "./Daemon.js"
import { checkConfig, daemonOptions } from "./Options.js"

const program = Effect.gen(function*() {
  const flags = yield* Effect.try({ try: () => parseFlags(process.argv.slice(2)), catch: (e) => e as Error })
  if (flags.help) return yield* Console.log(USAGE)
  if (flags.checkConfig) return yield* checkConfig(flags)
  const startup = yield* daemonOptions(flags)
  yield* Effect.logInfo(`configuration hash 0x${startup.hash.toString(16).padStart(8, "0")}`).pipe(
    Effect.annotateLogs({ daemon: startup.me.name, id: `0x${startup.me.id.toString(16)}`, rank: startup.me.rank })
  )
  return yield* Layer.launch(SpreadDaemon.layer(startup.options)).pipe(
    Effect.provideService(References.MinimumLogLevel, flags.logLevel)
  )
}).pipe(
  Effect.tapError((e) => Console.error(`spread: ${e.message}`)),
  Effect.provide(Logger.layer([Logger.consoleLogFmt]))
)

/** A signal that stops the daemon is its normal end: exit 0 once every session is closed. */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
