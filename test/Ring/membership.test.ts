/**
 * Membership with EVS (daemon-protocol §6, §7) in the deterministic simulator: boot alone and
 * merge, partitions, crashes and restarts with new incarnations, graceful leave; checked with the
 * EVS checker (evs-properties.md §2, D1–D8, and end-of-drain liveness).
 */
import { describe, expect, it } from "vitest"
import { decodeRingPacket } from "../../src/Protocol/Ring/index.js"
import type { RingOutput } from "../../src/Membership/Ring/Types.js"
import { checkEvs } from "./EvsChecker.js"
import { membershipScenario } from "./Scenarios.js"
import { Sim } from "./Sim.js"

const failuresOf = (seeds: ReadonlyArray<number>, make: (seed: number) => Sim): Array<string> => {
  const failures: Array<string> = []
  for (const seed of seeds) {
    const sim = make(seed).run()
    const v = checkEvs(sim, 3)
    if (v.length > 0) failures.push(`seed ${seed} (${sim.ids.length} daemons): ${JSON.stringify(v)}`)
  }
  return failures
}
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

describe("membership in simulation (§6)", () => {
  it("a daemon boots alone into a regular singleton, no transitional configuration (§6.11, R2)", () => {
    const sim = new Sim(membershipScenario(8, false, { daemons: 1 })).run()
    expect(checkEvs(sim)).toEqual([])
    const log = [...sim.logs.values()][0]!
    const installs = log.filter((e) => e.type === "install")
    expect(installs.map((e) => e.type === "install" && e.configId.kind)).toEqual(["REG"])
  })

  it("150 seeds: 2–9 daemons boot alone within 500 ms and merge into one ring; EVS holds", () => {
    expect(failuresOf(range(1, 150), (seed) => new Sim(membershipScenario(seed, false)))).toEqual([])
  })

  it("150 seeds: partitions, crashes and restarts (new incarnations), then a drain; EVS holds and all end in one ring", () => {
    expect(failuresOf(range(1, 150), (seed) => new Sim(membershipScenario(seed, true)))).toEqual([])
  })

  it("R1 (§6.10.1): the ring seq is persisted before the commit token goes on", () => {
    for (const seed of range(1, 20)) {
      const persisted = new Map<number, number>()
      const problems: Array<string> = []
      const sim = new Sim(membershipScenario(seed, true, {
        mutateOutputs: (d, outs: Array<RingOutput>) => {
          for (const o of outs) {
            if (o._tag === "PersistRingSeq") persisted.set(d, Math.max(persisted.get(d) ?? 0, o.seq))
            if (o._tag === "SendUnicast" && o.bytes[3] === 0x11) {
              const r = decodeRingPacket(o.bytes)
              if (r.ok && r.body._tag === "COMMIT" && r.body.commit.newRing.seq > (persisted.get(d) ?? 0)) {
                problems.push(`${d} sent commit token for ${r.body.commit.newRing.seq} before persisting it`)
              }
            }
          }
          return outs
        }
      })).run()
      expect(problems).toEqual([])
      expect(checkEvs(sim)).toEqual([])
    }
  })

  it("graceful leave (§6.13): the others form a new ring well before a token timeout", () => {
    for (const seed of range(1, 10)) {
      const sim = new Sim(membershipScenario(seed, false, {
        daemons: 4,
        processFaults: { partitions: 0, crashes: 0, downtime: [0, 0], shutdowns: [[5000, 1]] }
      })).run()
      expect(checkEvs(sim)).toEqual([])
      const leaver = sim.ids[1]!
      for (const [key, log] of sim.logs) {
        if (Sim.parse(key).id === leaver) continue
        const after = log.find((e) => e.type === "install" && e.configId.kind === "REG" && e.t > 5000)
        expect(after).toBeDefined()
        expect(after!.t - 5000).toBeLessThan(400) // TokenLoss alone would take 1250 ms
        expect(after!.type === "install" && after!.members.includes(leaver)).toBe(false)
      }
    }
  })
})
