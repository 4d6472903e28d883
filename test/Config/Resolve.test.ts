import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  checkConfig,
  ConfigError,
  configHash,
  configWarnings,
  describeConfig,
  type HostLookup,
  loadConfig,
  parseConfig,
  resolveConfig
} from "../../src/Config/index.ts"

/** A resolver answering from a table: no network in tests. */
const table =
  (entries: Record<string, ReadonlyArray<string>>): HostLookup =>
  (host) =>
    host in entries ? Effect.succeed(entries[host]!) : Effect.fail("ENOTFOUND")

const NAMED = `Spread_Segment 10.0.0.255:4803 {
    hostA
    hostB 10.0.0.2
    hostC { D 0.0.0.0 }
}
`

const failureOf = <A>(exit: Exit.Exit<A, ConfigError>): ConfigError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") throw new Error("expected a ConfigError")
  return error.error
}

describe("resolveConfig", () => {
  it.effect("gives name-only entries the first address of the active IP version", () =>
    Effect.gen(function*() {
      const config = yield* resolveConfig(
        parseConfig(NAMED, "named.conf"),
        table({ hostA: ["2001:db8::1", "10.0.0.1", "10.0.0.9"], hostC: ["10.0.0.3"] })
      )
      assert.deepStrictEqual(config.daemons.map((d) => d.address), ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
      assert.strictEqual(config.segments[0]!.daemons[0], config.daemons[0])
      assert.isTrue(Number.isInteger(configHash(config)))
      const written = parseConfig(NAMED.replace("hostA", "hostA 10.0.0.1").replace("hostC", "hostC 10.0.0.3"), "w.conf")
      assert.strictEqual(configHash(config), configHash(written))
    }))

  it.effect("fails at the entry of a name that does not resolve", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(resolveConfig(parseConfig(NAMED, "named.conf"), table({ hostC: ["10.0.0.3"] })))
      const error = failureOf(exit)
      assert.strictEqual(
        error.message,
        'named.conf:2:5: expected a daemon name that resolves to an IPv4 address (or an address after the name), found "hostA" (ENOTFOUND)'
      )
    }))

  it.effect("fails when the name has no address of the active IP version", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        resolveConfig(parseConfig(NAMED, "named.conf"), table({ hostA: ["2001:db8::1"], hostC: ["10.0.0.3"] }))
      )
      assert.include(failureOf(exit).message, 'found "hostA" (no IPv4 address)')
    }))

  it.effect("checks a looked-up address like a written one", () =>
    Effect.gen(function*() {
      const clash = failureOf(
        yield* Effect.exit(resolveConfig(parseConfig(NAMED, "n.conf"), table({ hostA: ["10.0.0.2"], hostC: ["10.0.0.3"] })))
      )
      assert.strictEqual(clash.message, 'n.conf:2:5: expected an address and port not used by "hostB", found "hostA" = 10.0.0.2')
      const multicast = failureOf(
        yield* Effect.exit(resolveConfig(parseConfig(NAMED, "n.conf"), table({ hostA: ["224.0.0.5"], hostC: ["10.0.0.3"] })))
      )
      assert.include(multicast.message, "resolves to a unicast address")
      const stanza = "Spread_Segment 10.0.0.255 {\n  hostD { D 10.0.0.4 }\n}\n"
      const iface = failureOf(yield* Effect.exit(resolveConfig(parseConfig(stanza, "i.conf"), table({ hostD: ["10.0.0.5"] }))))
      assert.strictEqual(iface.line, 2)
      assert.include(iface.expected, "an interface with role D on 10.0.0.5")
    }))

  it.effect("keeps warnings and positions", () =>
    Effect.gen(function*() {
      const text = `AliveTimeout = 100\n${NAMED}`
      const config = yield* resolveConfig(parseConfig(text, "w.conf"), table({ hostA: ["10.0.0.1"], hostC: ["10.0.0.3"] }))
      assert.strictEqual(configWarnings(config).length, 1)
    }))
})

describe("loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "spread-config-"))

  it.effect("reads, parses and resolves a file", () =>
    Effect.gen(function*() {
      const path = join(dir, "spread.conf")
      writeFileSync(path, "Spread_Segment 127.0.0.255:25100 {\n    node1 127.0.0.1\n    localhost\n}\n")
      const config = yield* loadConfig(path, table({ localhost: ["127.0.0.2"] }))
      assert.deepStrictEqual(config.daemons.map((d) => [d.name, d.address]), [["node1", "127.0.0.1"], ["localhost", "127.0.0.2"]])
      assert.include(describeConfig(config), "Configuration hash 0x")
    }))

  it.effect("checkConfig describes the file, with no daemon name and no local address", () =>
    Effect.gen(function*() {
      const path = join(dir, "check.conf")
      writeFileSync(path, "Spread_Segment 192.0.2.255 {\n    far 192.0.2.1\n}\n")
      const text = yield* checkConfig(path, table({}))
      assert.match(text, /^Configuration hash 0x[0-9a-f]{8} \(\d+\)\n/)
      assert.include(text, "rank 0  far")
    }))

  it.effect("fails with the position of a syntax error", () =>
    Effect.gen(function*() {
      const path = join(dir, "broken.conf")
      writeFileSync(path, "Spread_Segment 127.0.0.255 {\n  node1 127.0.0\n}\n")
      const error = failureOf(yield* Effect.exit(loadConfig(path, table({}))))
      assert.strictEqual(error.message, `${path}:2:9: expected an IPv4 or IPv6 address after "node1", found "127.0.0"`)
    }))

  it.effect("fails for a file that cannot be read", () =>
    Effect.gen(function*() {
      const path = join(dir, "missing.conf")
      const error = failureOf(yield* Effect.exit(loadConfig(path, table({}))))
      assert.strictEqual(error.line, 0)
      assert.match(error.message, /missing\.conf: expected a readable configuration file, found ENOENT/)
    }))
})
