/**
 * The effectful edge of configuration: reading the file and looking up name-only daemon entries
 * (`node3` with no address), the only parts that touch the system.
 */
import { lookup as dnsLookup } from "node:dns/promises"
import { readFile } from "node:fs/promises"
import * as Effect from "effect/Effect"
import { isMulticast, isUnspecified, parseIpAddress, sameAddress } from "./Address.js"
import { checkDaemonInterfaces } from "./Build.js"
import { ConfigError, type Position } from "./ConfigError.js"
import type { DaemonEntry, IpVersion, SpreadConfig } from "./Model.js"
import { describeConfig } from "./Describe.js"
import { parseConfig } from "./Parse.js"
import { sourceOf, withSource } from "./Source.js"

/**
 * Addresses of a host name in the active IP version, best first; fails with a short reason
 * (`ENOTFOUND`). Tests pass a table; the daemon passes `nodeHostLookup`.
 */
export type HostLookup = (host: string, version: IpVersion) => Effect.Effect<ReadonlyArray<string>, string>

/** `HostLookup` through the system resolver (`getaddrinfo`, as Spread's `set_daemon_name_and_addr`). */
export const nodeHostLookup: HostLookup = (host, version) =>
  Effect.tryPromise({
    try: () => dnsLookup(host, { all: true, family: version === "IPv4" ? 4 : 6 }),
    catch: (e) => (e instanceof Error ? e.message : String(e))
  }).pipe(Effect.map((found) => found.map((a) => a.address)))

/**
 * Gives every name-only daemon the first address its name resolves to in the active IP version
 * (config_parse.y, `set_daemon_name_and_addr`), then checks that address as if it had been
 * written. Fails with `ConfigError` at the daemon's entry.
 *
 * @example
 * const config = yield* resolveConfig(parseConfig(text, "spread.conf"), nodeHostLookup)
 */
export const resolveConfig = Effect.fnUntraced(function*(
  config: SpreadConfig,
  lookup: HostLookup
): Effect.fn.Return<SpreadConfig, ConfigError> {
  const source = sourceOf(config)
  const failAt = (d: DaemonEntry, expected: string, found: string): ConfigError => {
    const at: Position = source.daemonAt.get(d.name) ?? { line: 0, column: 0 }
    return new ConfigError({ file: source.file, line: at.line, column: at.column, expected, found })
  }
  const daemons: Array<DaemonEntry> = []
  for (const d of config.daemons) {
    if (d.address !== null) {
      daemons.push(d)
      continue
    }
    const expected = `a daemon name that resolves to an ${config.ipVersion} address (or an address after the name)`
    const found = yield* lookup(d.name, config.ipVersion).pipe(
      Effect.mapError((reason) => failAt(d, expected, `"${d.name}" (${reason})`))
    )
    const ip = found.map(parseIpAddress).find((a) => a !== null && a.version === config.ipVersion)
    if (ip === undefined || ip === null) return yield* failAt(d, expected, `"${d.name}" (no ${config.ipVersion} address)`)
    if (isMulticast(ip.address) || isUnspecified(ip.address)) {
      return yield* failAt(d, "a daemon name that resolves to a unicast address", `"${d.name}" = ${ip.address}`)
    }
    const clash = daemons.concat(config.daemons.slice(d.rank + 1)).find(
      (o) => o.address !== null && o.port === d.port && sameAddress(o.address, ip.address)
    )
    if (clash !== undefined) {
      return yield* failAt(d, `an address and port not used by "${clash.name}"`, `"${d.name}" = ${ip.address}`)
    }
    const resolved: DaemonEntry = { ...d, address: ip.address }
    yield* attempt(() => checkDaemonInterfaces(source.file, source.daemonAt.get(d.name) ?? { line: 0, column: 0 }, resolved))
    daemons.push(resolved)
  }
  const segments = config.segments.map((s) => ({
    ...s,
    daemons: s.daemons.map((d) => daemons[d.rank]!)
  }))
  return withSource({ ...config, segments, daemons }, source)
})

/** Runs a throwing configuration step: a `ConfigError` fails the Effect, anything else is a defect. */
const attempt = <A>(f: () => A): Effect.Effect<A, ConfigError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (e) {
      return e instanceof ConfigError ? Effect.fail(e) : Effect.die(e)
    }
  })

/** `parseConfig` as an Effect. */
export const parseConfigEffect = (text: string, file: string): Effect.Effect<SpreadConfig, ConfigError> =>
  attempt(() => parseConfig(text, file))

/**
 * Reads, parses and resolves a configuration file: what `main` and `--check-config` call.
 *
 * @example
 * const config = yield* loadConfig("/etc/spread.conf")
 * yield* Effect.log(`configuration hash ${configHash(config).toString(16)}`)
 */
export const loadConfig = (path: string, lookup: HostLookup = nodeHostLookup): Effect.Effect<SpreadConfig, ConfigError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) =>
      new ConfigError({
        file: path,
        line: 0,
        column: 0,
        expected: "a readable configuration file",
        found: e instanceof Error ? e.message : String(e)
      })
  }).pipe(
    Effect.flatMap((text) => parseConfigEffect(text, path)),
    Effect.flatMap((config) => resolveConfig(config, lookup))
  )

/**
 * What `spread --check-config -c FILE` prints: the file read, parsed and resolved, then
 * described. Needs no daemon name and no local address, so it works on any machine.
 *
 * @example
 * const text = yield* checkConfig("spread.conf")
 */
export const checkConfig = (path: string, lookup: HostLookup = nodeHostLookup): Effect.Effect<string, ConfigError> =>
  loadConfig(path, lookup).pipe(Effect.map(describeConfig))
