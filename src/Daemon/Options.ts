/**
 * From flags and `spread.conf` to {@link DaemonOptions}: which daemon of the configuration this
 * process is, where its clients connect, and the limits it applies.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { randomInt } from "node:crypto"
import { hostname, networkInterfaces } from "node:os"
import { isUnspecified, unspecifiedAddress } from "../Config/Address.js"
import type { IpVersion } from "../Config/Model.js"
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
import { nextRingSeq } from "../Membership/ConfigurationId.js"
import { makeRingConfig, type RingConfig } from "../Membership/Ring/RingConfig.js"
import type { DaemonFlags } from "./Cli.js"
import type { DaemonOptions, TcpAddress } from "./Daemon.js"
import { UsageError } from "./Errors.js"
import { StateFile } from "./StateFile.js"
import { UdpTransport } from "./UdpTransport.js"

/** Every address of this machine, for finding our entry in the configuration (as Spread does). */
const localAddresses = (): ReadonlyArray<string> =>
  Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))

/**
 * Client listeners (client-protocol §2.1): every interface with the `C` role, or every address
 * when the entry names no interfaces. The zero-config daemon stays on loopback. Decision (the
 * spec says only that 5.0.1 "can also listen on IPv6"): "every address" is `0.0.0.0` in an IPv4
 * configuration, as Spread binds, and `::` in an IPv6 one (`ActiveIPVersion = IPv6`), so that
 * clients reach the daemon on the addresses of its configuration; Node's `::` listener takes
 * IPv4 clients too.
 */
const clientAddresses = (me: DaemonEntry, port: number, zeroConfig: boolean, ipVersion: IpVersion): ReadonlyArray<TcpAddress> => {
  if (zeroConfig) return [{ host: "127.0.0.1", port }]
  const client = me.interfaces.filter((i) => i.roles.includes("C"))
  if (me.interfaces.length === 0 || client.some((i) => isUnspecified(i.address))) {
    return [{ host: unspecifiedAddress(ipVersion), port }]
  }
  return client.map((i) => ({ host: i.address, port }))
}

export interface Startup {
  readonly options: DaemonOptions
  readonly config: SpreadConfig
  readonly me: DaemonEntry
  readonly hash: number
}

/** `-p`: every daemon of the configuration on this port (all daemons of a ring must agree). */
const withPort = (config: SpreadConfig, port: number): SpreadConfig => ({
  ...config,
  segments: config.segments.map((s) => ({ ...s, port, daemons: s.daemons.map((d) => ({ ...d, port })) })),
  daemons: config.daemons.map((d) => ({ ...d, port }))
})

/**
 * How a daemon is reached besides its IP, compared on a reload (§9.5): its port, its segment's
 * addresses and its interfaces.
 */
const endpointOf = (config: SpreadConfig, d: DaemonEntry): string =>
  JSON.stringify([d.port, config.segments[d.segment]?.addresses ?? [], d.interfaces])

/** The ring engine's view of the configuration (daemon-protocol §9, §12). */
export const ringConfigOf = (config: SpreadConfig, hash: number): RingConfig =>
  makeRingConfig(
    // An unresolved address never matches a datagram's source (§4.1).
    config.daemons.map((d) => ({ id: d.id, address: d.address ?? "", name: d.name, endpoint: endpointOf(config, d) })),
    {
      configHash: hash,
      window: config.windows.window,
      personalWindow: config.windows.personalWindow,
      acceleratedRing: config.acceleratedRing,
      acceleratedWindow: config.windows.acceleratedWindow,
      maxSeqGap: config.limits.maxSeqGap,
      maxPacketSize: config.limits.maxPacketSize,
      maxTokenSize: config.limits.maxTokenSize,
      maxMessageSize: config.limits.maxMessageSize,
      idleRotationsBeforeHold: config.limits.idleRotationsBeforeHold,
      timeouts: {
        tokenLoss: config.timeouts.tokenLoss,
        tokenRetransmit: config.timeouts.tokenRetransmit,
        tokenHold: config.timeouts.tokenHold,
        join: config.timeouts.join,
        consensus: config.timeouts.consensus,
        commit: config.timeouts.commit,
        probeMin: config.timeouts.probeInterval,
        probeMax: config.timeouts.probeMax
      }
    }
  )

/** A configuration as the daemon runs on it: `-p` applied, its hash (§9.3) and the ring's view. */
export interface DaemonConfig {
  readonly config: SpreadConfig
  readonly hash: number
  readonly ring: RingConfig
}

const prepare = (loaded: SpreadConfig, port: number | undefined): DaemonConfig => {
  const config = port === undefined ? loaded : withPort(loaded, port)
  const hash = configHash(config)
  return { config, hash, ring: ringConfigOf(config, hash) }
}

/** Where a daemon's configuration comes from, to re-read it (§9.5): the file and `-p`. */
export interface ConfigSource {
  readonly file: string
  readonly port: number | undefined
}

/**
 * daemon-protocol §9.5: re-reads the file the daemon was started with, prepared as at the start
 * (`-p` applied). A file that does not parse or validate fails with its {@link ConfigError}.
 */
export const reloadConfig = (source: ConfigSource): Effect.Effect<DaemonConfig, ConfigError> =>
  Effect.map(loadConfig(source.file), (loaded) => prepare(loaded, source.port))

/** Daemon names by id, for the log. */
export const namesOf = (config: SpreadConfig): ReadonlyMap<number, string> => new Map(config.daemons.map((d) => [d.id, d.name]))

/**
 * daemon-protocol §6.10.1 fix 3: without a state directory the incarnation is the wall-clock
 * second, taken only after the second in which the process started has passed, so two starts
 * of one daemon never share it.
 */
const nextSecond: Effect.Effect<number> = Effect.suspend(() => {
  const started = Math.floor(Date.now() / 1000)
  return Effect.sleep(1000 - (Date.now() % 1000) + 1).pipe(
    Effect.map(() => Math.max(started + 1, Math.floor(Date.now() / 1000)))
  )
})

/** `RuntimeDir`'s state file, or undefined (with a warning) when it cannot be used. */
const openStateFile = (runtimeDir: string | null, name: string): Effect.Effect<StateFile | undefined> => {
  if (runtimeDir === null) return Effect.succeed(undefined)
  return Effect.try(() => StateFile.open(runtimeDir, name, Math.floor(Date.now() / 1000))).pipe(
    Effect.catch((e) =>
      Effect.as(
        Effect.logWarning(`RuntimeDir ${runtimeDir} is not usable (${e.cause instanceof Error ? e.cause.message : String(e.cause)}): incarnation and ring seqs come from the clock`),
        undefined
      )
    )
  )
}

export const daemonOptions = (flags: DaemonFlags): Effect.Effect<Startup, ConfigError | DaemonSelectionError> =>
  Effect.gen(function*() {
    const zeroConfig = flags.configFile === undefined
    const loaded = flags.configFile === undefined
      ? defaultConfig({ name: flags.name ?? hostname().slice(0, MAX_PROC_NAME - 1), ...(flags.port ? { port: flags.port } : {}) })
      : yield* loadConfig(flags.configFile)
    const { config, hash, ring } = prepare(loaded, flags.port)
    const me = yield* Effect.try({
      try: () => selectDaemon(config, { name: flags.name, localAddresses: zeroConfig ? ["127.0.0.1"] : localAddresses() }),
      catch: (e) => e as DaemonSelectionError
    })
    const state = yield* openStateFile(config.host.runtimeDir, me.name)
    // §2.2 / §6.10.1: the persisted counter and ring seq; without them, the wall clock.
    const incarnation = state === undefined ? yield* nextSecond : state.incarnation
    const ringSeqFloor = state === undefined || state.firstStart ? Date.now() : state.ringSeq
    // The boot ring (§6.11) takes the next seq without a commit token: persist it too, or the
    // next start would boot into the same ring id.
    state?.persistRingSeq(nextRingSeq(ringSeqFloor))
    const options: DaemonOptions = {
      daemonName: me.name,
      daemonId: me.id,
      tcp: clientAddresses(me, me.port, zeroConfig, config.ipVersion),
      unixPath: unixSocketPath(me.port),
      auth: { allowed: config.access.allowedAuthMethods, required: config.access.requiredAuthMethods },
      limits: { maxMessages: config.limits.maxSessionMessages, maxBytes: config.limits.maxSessionBytes },
      config,
      source: flags.configFile === undefined ? undefined : { file: flags.configFile, port: flags.port },
      ring,
      udp: UdpTransport.optionsFrom(config, me),
      names: namesOf(config),
      incarnation,
      ringSeqFloor,
      state,
      seed: randomInt(0x7fff_ffff),
      dropRate: flags.dropRate
    }
    return { options, config, me, hash }
  })

/** `--check-config`: print the parsed configuration; a broken file fails (non-zero exit). */
export const checkConfig = (flags: DaemonFlags): Effect.Effect<void, ConfigError | UsageError> =>
  flags.configFile === undefined
    ? Effect.fail(new UsageError({ reason: "--check-config needs -c FILE" }))
    : describeConfigFile(flags.configFile).pipe(Effect.flatMap(Console.log))
