#!/usr/bin/env node
/**
 * `spread`: the daemon's entry point. Parses the flags, loads the configuration, and runs the
 * daemon Layer until SIGINT/SIGTERM (NodeRuntime.runMain interrupts it, closing every session).
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Runtime from "effect/Runtime"
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
