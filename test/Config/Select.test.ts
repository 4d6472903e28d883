import { describe, expect, it } from "vitest"
import { DaemonSelectionError, parseConfig, selectDaemon } from "../../src/Config/index.ts"

const config = parseConfig(
  `Spread_Segment 10.0.0.255:4803 {
    alpha 10.0.0.1
    beta  10.0.0.2
}
Spread_Segment 10.0.0.255:4805 {
    gamma 10.0.0.2
}
`,
  "select.conf"
)

const failure = (f: () => unknown): DaemonSelectionError => {
  try {
    f()
  } catch (e) {
    if (e instanceof DaemonSelectionError) return e
    throw e
  }
  throw new Error("a daemon was selected")
}

describe("selectDaemon", () => {
  it("takes the daemon named by -n, whatever the local addresses", () => {
    expect(selectDaemon(config, { name: "beta", localAddresses: [] }).rank).toBe(1)
    expect(selectDaemon(config, { name: "gamma", localAddresses: ["10.0.0.1"] }).rank).toBe(2)
  })

  it("fails for an unknown name and lists the daemons", () => {
    const e = failure(() => selectDaemon(config, { name: "omega", localAddresses: ["10.0.0.1"] }))
    expect(e.reason).toBe("NoSuchName")
    expect(e.message).toBe('no daemon named "omega" in the configuration (daemons: alpha, beta, gamma)')
  })

  it("without a name, takes the one daemon whose address is local", () => {
    expect(selectDaemon(config, { localAddresses: ["127.0.0.1", "10.0.0.1", "::1"] }).name).toBe("alpha")
  })

  it("fails when no configured address is local", () => {
    const e = failure(() => selectDaemon(config, { localAddresses: ["127.0.0.1"] }))
    expect(e.reason).toBe("NoLocalAddress")
    expect(e.message).toContain("no configured daemon has an address of this machine (127.0.0.1)")
  })

  it("fails when several daemons share a local address (two ports on one host)", () => {
    const e = failure(() => selectDaemon(config, { localAddresses: ["10.0.0.2"] }))
    expect(e.reason).toBe("SeveralLocalAddresses")
    expect(e.candidates).toEqual(["beta", "gamma"])
    expect(e.message).toBe("several configured daemons have an address of this machine (beta, gamma); name one with -n")
  })

  it("compares IPv6 addresses in canonical form and without scope", () => {
    const v6 = parseConfig("Spread_Segment ff02::1 {\n  delta fe80::7%eth0\n  eps 2001:db8::1\n}\n", "v6.conf")
    expect(selectDaemon(v6, { localAddresses: ["FE80:0::7%lo"] }).name).toBe("delta")
  })

  it("never matches a name-only entry by address", () => {
    const named = parseConfig("Spread_Segment 10.0.0.255 {\n  hostA\n}\n", "n.conf")
    expect(failure(() => selectDaemon(named, { localAddresses: ["10.0.0.1"] })).reason).toBe("NoLocalAddress")
    expect(selectDaemon(named, { name: "hostA", localAddresses: [] }).name).toBe("hostA")
  })
})
