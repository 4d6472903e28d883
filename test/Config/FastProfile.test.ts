/**
 * The fast timeout profile is plain spread.conf settings: they parse, pass the §9.4 checks and
 * give exactly FAST_TIMEOUTS.
 */
import { describe, expect, it } from "vitest"
import { FAST_TIMEOUTS, fastProfileSettings, parseConfig } from "../../src/Config/index.ts"

describe("the fast profile", () => {
  it("is a block of standard settings that yields FAST_TIMEOUTS", () => {
    const text = `Spread_Segment 10.0.0.255:4803 {\n  a 10.0.0.1\n  b 10.0.0.2\n}\n${fastProfileSettings()}\n`
    expect(parseConfig(text, "fast.conf").timeouts).toEqual(FAST_TIMEOUTS)
  })
})
