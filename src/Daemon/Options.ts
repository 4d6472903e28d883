/**
 * From flags and configuration to {@link DaemonOptions}.
 */
import { Console, Effect } from "effect"
import { hostname } from "node:os"
import { DEFAULT_MAX_SESSION_MESSAGES, DEFAULT_SPREAD_PORT, MAX_PROC_NAME, unixSocketPath } from "../Protocol/index.js"
import { defaultAuthPolicy } from "./Auth.js"
import type { DaemonFlags } from "./Cli.js"
import type { DaemonOptions } from "./Daemon.js"
import { UsageError } from "./Errors.js"

/** `MaxSessionBytes` default (daemon-protocol §8.9). */
const DEFAULT_MAX_SESSION_BYTES = 64 * 1024 * 1024

const TEMP_HASH = (name: string): number => {
  let h = 0
  for (const c of Buffer.from(name + "\0", "latin1")) {
    h = (h + c) >>> 0
    h = (h + (h << 10)) >>> 0
    h = (h ^ (h >>> 6)) >>> 0
  }
  h = (h + (h << 3)) >>> 0
  h = (h ^ (h >>> 11)) >>> 0
  h = (h + (h << 15)) >>> 0
  return h
}

export const daemonOptions = (flags: DaemonFlags): Effect.Effect<DaemonOptions, UsageError> =>
  Effect.gen(function*() {
    if (flags.configFile !== undefined) return yield* new UsageError({ reason: "-c is not supported yet" })
    const name = flags.name ?? hostname().slice(0, MAX_PROC_NAME - 1)
    const port = flags.port ?? DEFAULT_SPREAD_PORT
    return {
      daemonName: name,
      daemonId: TEMP_HASH(name),
      tcp: [{ host: "127.0.0.1", port }],
      unixPath: unixSocketPath(port),
      auth: defaultAuthPolicy,
      limits: { maxMessages: DEFAULT_MAX_SESSION_MESSAGES, maxBytes: DEFAULT_MAX_SESSION_BYTES },
      ringSeqFloor: Date.now(),
      seed: Date.now() >>> 0
    }
  })

export const checkConfig = (_flags: DaemonFlags) => Console.log("not yet")
