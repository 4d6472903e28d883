import { describe, expect, it } from "vitest"
import { daemonIdFromName, oneAtATimeHash, parseConfig, remapReservedId } from "../../src/Config/index.ts"

describe("daemon ids (daemon-protocol §2.1)", () => {
  it("matches Spread 5.0.1's ids for node1 and node2", () => {
    expect(daemonIdFromName("node1")).toBe(0x1d5c9b95)
    expect(daemonIdFromName("node2")).toBe(0x0b28760d)
  })

  it("hashes the name with its NUL and starts from the key length", () => {
    expect(oneAtATimeHash(Buffer.from("node1\0", "latin1"))).toBe(0x1d5c9b95)
    expect(oneAtATimeHash(Buffer.from("node1", "latin1"))).not.toBe(0x1d5c9b95)
    expect(oneAtATimeHash(new Uint8Array(0))).toBe(0)
  })

  it("remaps the reserved ids 0 and 0xFFFFFFFF to (key length) << 16, or 1 << 16", () => {
    expect(remapReservedId(0, 6)).toBe(6 << 16)
    expect(remapReservedId(0xffff_ffff, 6)).toBe(6 << 16)
    expect(remapReservedId(0, 0x8000)).toBe(0x8000_0000)
    expect(remapReservedId(0, 0x1_0000)).toBe(1 << 16)
    expect(remapReservedId(1234, 6)).toBe(1234)
  })

  it("gives each daemon its VirtualID, or the hash of its name", () => {
    const config = parseConfig(
      "Spread_Segment 10.0.0.255 {\n  node1 10.0.0.1\n  node2 10.0.0.2 VirtualID = 77\n}\n",
      "ids.conf"
    )
    expect(config.daemons.map((d) => [d.id, d.virtualId])).toEqual([
      [0x1d5c9b95, null],
      [77, 77]
    ])
  })
})
