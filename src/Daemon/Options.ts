/**
 * From flags and `spread.conf` to {@link DaemonOptions}: which daemon of the configuration this
 * process is, where its clients connect, and the limits it applies.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { randomInt } from "node:crypto"
import { hostname, networkInterfaces } from "node:os"
import {
  checkConfig as describeConfigFile,
  configHash,
  type ConfigError,
  type DaemonEntry,
  type DaemonSelectionError,
  defaultConfig,
  loadConfig,
  selectDaemon,
  type SpreadConfig
} from "../Config/index.js"
import { MAX_PROC_NAME, unixSocketPath } from "../Protocol/index.js"
import type { DaemonFlags } from "./Cli.js"
import type { DaemonOptions, TcpAddress } from "./Daemon.js"
import { UsageError } from "./Errors.js"

/** Every address of this machine, for finding our entry in the configuration (as Spread does). */
const localAddresses = (): ReadonlyArray<string> =>
  Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))

/**
 * Client listeners (client-protocol §2.1): every interface with the `C` role, or every address
 * when the entry names no interfaces. The zero-config daemon stays on loopback.
 */
const clientAddresses = (me: DaemonEntry, port: number, zeroConfig: boolean): ReadonlyArray<TcpAddress> => {
  if (zeroConfig) return [{ host: "127.0.0.1", port }]
  const client = me.interfaces.filter((i) => i.roles.includes("C"))
  if (me.interfaces.length === 0 || client.some((i) => i.address === "0.0.0.0" || i.address === "::")) {
    return [{ host: "0.0.0.0", port }]
  }
  return client.map((i) => ({ host: i.address, port }))
}

export interface Startup {
  readonly options: DaemonOptions
  readonly config: SpreadConfig
  readonly me: DaemonEntry
  readonly hash: number
}

export const daemonOptions = (flags: DaemonFlags): Effect.Effect<Startup, ConfigError | DaemonSelectionError> =>
  Effect.gen(function*() {
    const zeroConfig = flags.configFile === undefined
    const config = flags.configFile === undefined
      ? defaultConfig({ name: flags.name ?? hostname().slice(0, MAX_PROC_NAME - 1), ...(flags.port ? { port: flags.port } : {}) })
      : yield* loadConfig(flags.configFile)
    const me = yield* Effect.try({
      try: () => selectDaemon(config, { name: flags.name, localAddresses: zeroConfig ? ["127.0.0.1"] : localAddresses() }),
      catch: (e) => e as DaemonSelectionError
    })
    const port = flags.port ?? me.port
    const options: DaemonOptions = {
      daemonName: me.name,
      daemonId: me.id,
      tcp: clientAddresses(me, port, zeroConfig),
      unixPath: unixSocketPath(port),
      auth: { allowed: config.access.allowedAuthMethods, required: config.access.requiredAuthMethods },
      limits: { maxMessages: config.limits.maxSessionMessages, maxBytes: config.limits.maxSessionBytes },
      // daemon-protocol §6.10.1 fix 2: without a state directory, wall-clock milliseconds.
      ringSeqFloor: Date.now(),
      seed: randomInt(0x7fff_ffff)
    }
    return { options, config, me, hash: configHash(config) }
  })

/** `--check-config`: print the parsed configuration; a broken file fails (non-zero exit). */
export const checkConfig = (flags: DaemonFlags): Effect.Effect<void, ConfigError | UsageError> =>
  flags.configFile === undefined
    ? Effect.fail(new UsageError({ reason: "--check-config needs -c FILE" }))
    : describeConfigFile(flags.configFile).pipe(Effect.flatMap(Console.log))
