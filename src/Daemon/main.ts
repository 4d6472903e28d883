#!/usr/bin/env node
/**
 * `spread`: the daemon's entry point. Parses the flags, loads the configuration, and runs the
 * daemon Layer until SIGINT/SIGTERM (NodeRuntime.runMain interrupts it, closing every session).
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger, References } from "effect"
import { parseFlags, USAGE } from "./Cli.js"
import { SpreadDaemon } from "./Daemon.js"
import { checkConfig, daemonOptions } from "./Options.js"

const program = Effect.gen(function*() {
  const flags = yield* Effect.try({ try: () => parseFlags(process.argv.slice(2)), catch: (e) => e as Error })
  if (flags.help) return yield* Console.log(USAGE)
  if (flags.checkConfig) return yield* checkConfig(flags)
  const options = yield* daemonOptions(flags)
  return yield* Layer.launch(SpreadDaemon.layer(options)).pipe(
    Effect.provideService(References.MinimumLogLevel, flags.logLevel)
  )
}).pipe(
  Effect.tapError((e) => Console.error(`spread: ${e.message}`)),
  Effect.provide(Logger.layer([Logger.consoleLogFmt]))
)

NodeRuntime.runMain(program, { disableErrorReporting: true })
