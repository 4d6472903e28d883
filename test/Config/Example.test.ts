import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  configHash,
  configWarnings,
  describeConfig,
  LAN_TIMEOUTS,
  parseConfig,
  SETTING_NAMES
} from "../../src/Config/index.ts"

const EXAMPLE = readFileSync(new URL("../../examples/spread.conf", import.meta.url), "utf8")

describe("examples/spread.conf", () => {
  const config = parseConfig(EXAMPLE, "examples/spread.conf")

  it("parses, without warnings", () => {
    expect(config.daemons.map((d) => d.name)).toEqual(["node1", "node2", "192.168.10.3", "node4", "node5", "node6"])
    expect(config.daemons[1]!.id).toBe(2002)
    expect(config.segments.map((s) => s.kind)).toEqual(["broadcast", "multicast"])
    expect(config.wideAreaNetwork).toBe(false)
    expect(config.timeouts).toEqual(LAN_TIMEOUTS)
    expect(configWarnings(config)).toEqual([])
  })

  it("documents every setting", () => {
    const undocumented = SETTING_NAMES.filter((name) => !new RegExp(`^#?${name}\\b`, "m").test(EXAMPLE))
    expect(undocumented).toEqual([])
  })

  it("still parses with every commented-out setting switched on", () => {
    const all = EXAMPLE.replace(/^#(\w+( = .*)?)$/gm, "$1").replace(/^DebugFlags = \{ PRINT EXIT \}$/m, "")
    const c = parseConfig(all, "all.conf")
    expect(c.access.allowedAuthMethods).toEqual(["NULL", "IP"])
    expect(c.logging.eventPreciseTimeStamp).toBe(true)
  })
})

describe("describeConfig", () => {
  it("lists daemons with ids, segments, timers, the hash and warnings", () => {
    const config = parseConfig(`${EXAMPLE}\nAliveTimeout = 300\n`, "spread.conf")
    const text = describeConfig(config)
    const hash = configHash(config)
    expect(text).toContain(`Configuration hash 0x${hash.toString(16).padStart(8, "0")} (${hash})`)
    expect(text).toContain("2 segment(s), 6 daemon(s), IPv4, local-area (LAN) profile, accelerated ring, transport multicast")
    expect(text).toContain("  Segment 0: 192.168.10.255:4803 (broadcast)")
    expect(text).toMatch(/rank 1 {2}node2 +192\.168\.10\.2 {2}id 0x000007d2 \(2002, VirtualID\)/)
    expect(text).toMatch(/rank 3 {2}node4 .* interfaces: D 192\.168\.10\.4, CM 0\.0\.0\.0/)
    expect(text).toContain("TokenTimeout 1250, TokenRetransmitTimeout 100, HurryTimeout 500")
    expect(text).toMatch(/spread\.conf:\d+:1: warning: AliveTimeout is accepted and ignored/)
  })

  it("says when the hash is unknown because a name is not resolved", () => {
    const text = describeConfig(parseConfig("Spread_Segment 10.0.0.255 { hostA }", "n.conf"))
    expect(text).toContain("Configuration hash (unknown until every name is resolved)")
    expect(text).toContain("(address by name lookup)")
  })
})
