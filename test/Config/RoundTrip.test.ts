import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { configHash, parseConfig, printConfig, type SpreadConfig } from "../../src/Config/index.ts"

/** Daemon names: plain words, and names that only survive printing if quoted. */
const daemonName = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_.-]{0,12}$/) },
  { weight: 1, arbitrary: fc.constantFrom("VirtualID", "spread_segment", "1.2.3.4", "a:b", "[x]", "it's", "$dollar", "ab}") }
)

interface DaemonSpec {
  readonly name: string
  readonly form: "named" | "address-only" | "name-only"
  readonly virtualId: boolean
  readonly interfaces: "none" | "any" | "split"
}

const daemonSpec = (name: string): fc.Arbitrary<DaemonSpec> =>
  fc.record({
    name: fc.constant(name),
    form: fc.constantFrom("named", "named", "address-only", "name-only"),
    virtualId: fc.boolean(),
    interfaces: fc.constantFrom("none", "none", "any", "split")
  })

interface SegmentSpec {
  readonly kind: "broadcast" | "multicast"
  readonly port: number | null
  readonly extraAddress: boolean
  readonly daemons: ReadonlyArray<DaemonSpec>
}

/** Settings with values that keep every cross-check satisfied (§9.4, §5.9, §4.8.1). */
const settingLines: fc.Arbitrary<ReadonlyArray<string>> = fc
  .record(
    {
      WideAreaNetwork: fc.constantFrom("true", "no", "ON", "off"),
      AcceleratedRing: fc.constantFrom("yes", "false"),
      Transport: fc.constantFrom("multicast", "Unicast"),
      Window: fc.integer({ min: 100, max: 1000 }).map(String),
      PersonalWindow: fc.integer({ min: 20, max: 100 }).map(String),
      AcceleratedWindow: fc.integer({ min: 0, max: 20 }).map(String),
      TokenTimeout: fc.integer({ min: 6000, max: 10000 }).map(String),
      HurryTimeout: fc.integer({ min: 100, max: 1000 }).map(String),
      TokenRetransmitTimeout: fc.integer({ min: 50, max: 300 }).map(String),
      JoinTimeout: fc.integer({ min: 50, max: 200 }).map(String),
      GatherTimeout: fc.integer({ min: 300, max: 3000 }).map(String),
      FormTimeout: fc.integer({ min: 1, max: 3000 }).map(String),
      ProbeInterval: fc.integer({ min: 100, max: 1000 }).map(String),
      LookupTimeout: fc.integer({ min: 1000, max: 60000 }).map(String),
      AliveTimeout: fc.integer({ min: 1, max: 999 }).map(String),
      MaxPacketSize: fc.integer({ min: 548, max: 65507 }).map(String),
      MaxTokenSize: fc.integer({ min: 548, max: 65507 }).map(String),
      MaxMessageSize: fc.integer({ min: 1, max: 64 * 1024 * 1024 }).map(String),
      MaxSeqGap: fc.integer({ min: 100, max: 2000 }).map(String),
      IdleRotationsBeforeHold: fc.integer({ min: 1, max: 255 }).map(String),
      MaxSessionMessages: fc.integer({ min: 1, max: 100000 }).map(String),
      MaxSessionBytes: fc.integer({ min: 1, max: 2 ** 40 }).map(String),
      MaxGroupsStateSize: fc.integer({ min: 1, max: 2 ** 30 }).map(String),
      DebugFlags: fc
        .array(fc.constantFrom("ALL", "NONE", "!PRINT", "EXIT", "!DATA_LINK", "GROUPS", "memory"), { maxLength: 5 })
        .map((flags) => `{ ${flags.join(" ")} }`),
      EventPriority: fc.constantFrom("pDEBUG", "INFO", "warning", "ERROR", "CRITICAL", "FATAL"),
      EventLogFile: fc.constantFrom("/var/log/spread.log", '"/tmp/log %h.txt"', "'C:\\spread.log'"),
      DangerousMonitor: fc.constantFrom("true", "false"),
      SocketPortReuse: fc.constantFrom("auto", "ON", "off"),
      RuntimeDir: fc.constantFrom("/var/run/spread", "'/srv/with space'"),
      DaemonUser: fc.constantFrom("nobody", "spread"),
      DaemonGroup: fc.constantFrom("nogroup", "spread"),
      AllowedAuthMethods: fc.constantFrom('"NULL IP"', "IP", '""', "NULL"),
      RequiredAuthMethods: fc.constantFrom("IP", '"IP NULL"'),
      AccessControlPolicy: fc.constant("PERMIT"),
      ExcludeSegAddrsFromHash: fc.constantFrom("yes", "no"),
      IgnoreMulticastJoinErrors: fc.constantFrom("true", "false"),
      MonitorKey: fc.constantFrom("k3y", '"a key with spaces"')
    },
    { requiredKeys: [] }
  )
  .chain((values) =>
    fc
      .record({
        timeStamp: fc.constantFrom(null, "EventTimeStamp", 'EventTimeStamp = "%H:%M:%S"'),
        precise: fc.boolean(),
        upperCase: fc.boolean()
      })
      .map(({ timeStamp, precise, upperCase }) => [
        ...Object.entries(values).map(([k, v]) => `${upperCase ? k.toUpperCase() : k} = ${v}`),
        ...(timeStamp === null ? [] : [timeStamp]),
        ...(precise ? ["EventPreciseTimeStamp"] : [])
      ])
  )

const configSpec = fc
  .record({
    ipv6: fc.boolean(),
    shapes: fc.array(
      fc.record({
        kind: fc.constantFrom("broadcast", "multicast"),
        port: fc.option(fc.integer({ min: 1024, max: 60000 })),
        extraAddress: fc.boolean(),
        daemonCount: fc.integer({ min: 1, max: 4 })
      }),
      { minLength: 1, maxLength: 3 }
    ),
    settings: settingLines
  })
  .chain(({ ipv6, shapes, settings }) => {
    const total = shapes.reduce((n, s) => n + s.daemonCount, 0)
    return fc
      .uniqueArray(daemonName, { minLength: total, maxLength: total })
      .chain((names) => fc.tuple(...names.map(daemonSpec)))
      .map((daemons) => {
        let next = 0
        const segments: Array<SegmentSpec> = shapes.map((s) => ({
          ...s,
          daemons: daemons.slice(next, (next += s.daemonCount))
        }))
        return { ipv6, segments, settings }
      })
  })

type ConfigSpec = { readonly ipv6: boolean; readonly segments: ReadonlyArray<SegmentSpec>; readonly settings: ReadonlyArray<string> }

const daemonAddress = (ipv6: boolean, segment: number, index: number): string =>
  ipv6 ? `2001:DB8:${segment}:0::${index + 1}` : `10.${segment}.${index}.1`

/** `spread.conf` text for a spec, with comments and uneven white space. */
const render = (spec: ConfigSpec, resolvedOnly: boolean): string => {
  const lines = [`# generated\nActiveIPVersion = ${spec.ipv6 ? "ipv6" : "IPv4"}`, ...spec.settings]
  let global = 0
  spec.segments.forEach((segment, s) => {
    const base = spec.ipv6 ? (segment.kind === "multicast" ? `ff02::${s + 1}` : `2001:db8:ffff::${s + 1}`) : segment.kind === "multicast" ? `239.0.0.${s + 1}` : `10.${s}.255.255`
    const head = segment.port === null ? base : spec.ipv6 ? `[${base}]:${segment.port}` : `${base}:${segment.port}`
    const extra = segment.extraAddress ? (spec.ipv6 ? ` ff05::${s + 1}` : ` 239.1.0.${s + 1}`) : ""
    lines.push(`Spread_Segment   ${head}${extra}  {   # segment ${s}`)
    segment.daemons.forEach((d, i) => {
      const address = daemonAddress(spec.ipv6, s, i)
      const form = resolvedOnly && d.form === "name-only" ? "named" : d.form
      const bare = /^[a-z][a-z0-9_.-]*$/.test(d.name) && d.name !== "spread_segment"
      const name = bare ? d.name : d.name.includes('"') ? `'${d.name}'` : `"${d.name}"`
      const parts = form === "address-only" ? [address] : form === "name-only" ? [name] : [name, address]
      if (d.virtualId) parts.push(`VirtualID = ${1000 + global}`)
      if (d.interfaces === "any") parts.push(spec.ipv6 ? "{ :: }" : "{ 0.0.0.0 }")
      if (d.interfaces === "split") parts.push(`{\n\t\tD ${address}\n\t\tC M ${spec.ipv6 ? "::1" : "127.0.0.1"} }`)
      lines.push(`\t${parts.join("  ")} ;`)
      global++
    })
    lines.push("}")
  })
  return lines.join("\n") + "\n"
}

const reparse = (config: SpreadConfig): SpreadConfig => parseConfig(printConfig(config), "printed.conf")

describe("printConfig and parseConfig round trip", () => {
  it("printing a parsed configuration and parsing it again gives the same model and hash", () => {
    fc.assert(
      fc.property(configSpec, (spec) => {
        const config = parseConfig(render(spec, true), "generated.conf")
        const again = reparse(config)
        expect(again).toEqual(config)
        expect(configHash(again)).toBe(configHash(config))
        expect(printConfig(again)).toBe(printConfig(config))
      }),
      { numRuns: 200 }
    )
  })

  it("keeps name-only entries unresolved through the round trip", () => {
    fc.assert(
      fc.property(configSpec, (spec) => {
        const config = parseConfig(render(spec, false), "generated.conf")
        expect(reparse(config)).toEqual(config)
      }),
      { numRuns: 100 }
    )
  })
})

describe("configHash (daemon-protocol §9.3)", () => {
  const parse = (text: string) => parseConfig(text, "h.conf")
  const base = "Spread_Segment 10.0.0.255:4803 {\n  a 10.0.0.1\n  b 10.0.0.2\n}\n"

  it("is the same for the same segments and daemons however the file is written", () => {
    const other = "# same ring\nspread_segment   10.0.0.255:4803{ a 10.0.0.1; b 10.0.0.2 }\nTokenTimeout = 3000\nWindow = 300\n"
    expect(configHash(parse(other))).toBe(configHash(parse(base)))
  })

  it("changes with daemon order, names, addresses, ids, ports and segment addresses", () => {
    const hash = configHash(parse(base))
    const variants = [
      "Spread_Segment 10.0.0.255:4803 {\n  b 10.0.0.2\n  a 10.0.0.1\n}\n",
      "Spread_Segment 10.0.0.255:4803 {\n  a 10.0.0.1\n  c 10.0.0.2\n}\n",
      "Spread_Segment 10.0.0.255:4803 {\n  a 10.0.0.1\n  b 10.0.0.3\n}\n",
      "Spread_Segment 10.0.0.255:4803 {\n  a 10.0.0.1 VirtualID = 9\n  b 10.0.0.2\n}\n",
      "Spread_Segment 10.0.0.255:4804 {\n  a 10.0.0.1\n  b 10.0.0.2\n}\n",
      "Spread_Segment 10.0.1.255:4803 {\n  a 10.0.0.1\n  b 10.0.0.2\n}\n",
      "Spread_Segment 10.0.0.255:4803 {\n  a 10.0.0.1\n}\nSpread_Segment 10.0.0.255:4803 {\n  b 10.0.0.2\n}\nWideAreaNetwork = false\n",
      `AcceleratedRing = false\n${base}`,
      `MaxPacketSize = 1400\n${base}`,
      `MaxMessageSize = 65536\n${base}`,
      `MaxSeqGap = 1000\n${base}`
    ]
    const hashes = variants.map((v) => configHash(parse(v)))
    expect(hashes).not.toContain(hash)
    expect(new Set(hashes).size).toBe(variants.length)
  })

  it("leaves segment addresses out with ExcludeSegAddrsFromHash", () => {
    const moved = "Spread_Segment 10.0.1.255:4803 {\n  a 10.0.0.1\n  b 10.0.0.2\n}\n"
    const exclude = "ExcludeSegAddrsFromHash = true\n"
    expect(configHash(parse(exclude + moved))).toBe(configHash(parse(exclude + base)))
  })

  it("ignores a daemon's %scope, which is local to each machine", () => {
    const v6 = (scope: string) => `Spread_Segment ff02::1 {\n  a fe80::1${scope}\n  b fe80::2${scope}\n}\n`
    expect(configHash(parse(v6("%eth0")))).toBe(configHash(parse(v6("%eth1"))))
  })

  it("is a u32", () => {
    fc.assert(
      fc.property(configSpec, (spec) => {
        const hash = configHash(parseConfig(render(spec, true), "g.conf"))
        expect(Number.isInteger(hash) && hash >= 0 && hash <= 0xffff_ffff).toBe(true)
      }),
      { numRuns: 50 }
    )
  })

  it("needs every address: an unresolved name is a programming error", () => {
    expect(() => configHash(parse("Spread_Segment 10.0.0.255 { hostA }"))).toThrow(/resolve/)
  })
})
