/**
 * The checker must catch deliberate bugs; and one faulty answerer must not stall the ring
 * (§5.6 hint rotation).
 */
import { describe, expect, it } from "vitest"
import { FLAG_RETRANSMISSION, OFF_FLAGS } from "../../src/Protocol/Ring/Header.js"
import { Ordering } from "../../src/Membership/Ring/Ordering.js"
import type { RingOutput } from "../../src/Membership/Ring/Types.js"
import { checkRun } from "./Checker.js"
import { Sim } from "./Sim.js"
import { checkEvs } from "./EvsChecker.js"
import { busyPartitionScenario, membershipScenario, scenario } from "./Scenarios.js"

const isRetransmission = (o: RingOutput): boolean =>
  (o._tag === "SendUnicast" || o._tag === "SendMulticast") && o.channel === "DATA" && o.bytes[3] === 0x01 &&
  (o.bytes.readUInt16LE(OFF_FLAGS) & FLAG_RETRANSMISSION) !== 0

const properties = (seeds: ReadonlyArray<number>, make: (seed: number) => Sim): Set<string> => {
  const found = new Set<string>()
  for (const s of seeds) for (const v of checkRun(make(s).run())) found.add(v.property)
  return found
}

const lossySeeds = [3, 7, 11, 15, 19, 23] // loss 8 % in scenario()

describe("injected bugs are caught", () => {
  it("no daemon ever answers retransmission requests → liveness / self-delivery violations", () => {
    // Short runs: without answers the ring spins at full speed with requests until the end.
    const found = properties(lossySeeds.slice(0, 2), (seed) =>
      new Sim(scenario(seed, { endAt: 2300, mutateOutputs: (_d, outs) => outs.filter((o) => !isRetransmission(o)) }))
    )
    expect(found.has("liveness") || found.has("D3")).toBe(true)
  })

  it("one daemon never answers → still live: the hint moves the answerer (§5.6)", () => {
    for (const seed of lossySeeds) {
      const sim = new Sim(scenario(seed, {
        mutateOutputs: (d, outs) => d === 1000 ? outs.filter((o) => !isRetransmission(o)) : outs
      }))
      expect(checkRun(sim.run())).toEqual([])
    }
  })

  it("a daemon that swaps two ordered deliveries → D6.1 / D6.2", () => {
    const found = properties(lossySeeds, (seed) =>
      new Sim(scenario(seed, {
        mutateOutputs: (d, outs) => {
          if (d !== 1000) return outs
          const ix = outs.flatMap((o, i) => o._tag === "Deliver" && o.deliveryClass !== "RELIABLE" ? [i] : [])
          if (ix.length >= 2) [outs[ix[0]!], outs[ix[1]!]] = [outs[ix[1]!]!, outs[ix[0]!]!]
          return outs
        }
      }))
    )
    expect(found.has("D6.1")).toBe(true)
    expect(found.has("D6.2")).toBe(true)
  })

  it("a daemon that drops one delivery / duplicates one / corrupts one → D3 or liveness, D1.3, D1.2", () => {
    let n = 0
    const drop = properties([3], (seed) => new Sim(scenario(seed, {
      mutateOutputs: (d, outs) => outs.filter((o) => !(d === 1000 && o._tag === "Deliver" && n++ === 5))
    })))
    expect(drop.has("D3") || drop.has("liveness")).toBe(true)
    let k = 0
    const dup = properties([3], (seed) => new Sim(scenario(seed, {
      mutateOutputs: (d, outs) => outs.flatMap((o) => d === 1000 && o._tag === "Deliver" && k++ === 5 ? [o, o] : [o])
    })))
    expect(dup.has("D1.3")).toBe(true)
    let j = 0
    const corrupt = properties([3], (seed) => new Sim(scenario(seed, {
      mutateOutputs: (d, outs) => outs.map((o) => {
        if (d !== 1000 || o._tag !== "Deliver" || o.envelope.length < 20 || j++ !== 5) return o
        const envelope = Buffer.from(o.envelope)
        envelope[12]! ^= 0xff
        return { ...o, envelope }
      })
    })))
    expect(corrupt.has("D1.2")).toBe(true)
  })

  it("a safe point taken from one token's aru (§5.5 overstatement) → D7.1", () => {
    const original = Ordering.prototype.safePoint
    Ordering.prototype.safePoint = function (tokenAru: number) {
      return tokenAru
    }
    try {
      let firstSeed = 0
      for (let seed = 3; seed < 400 && firstSeed === 0; seed += 4) {
        const v = checkRun(new Sim(scenario(seed, {
          endAt: 3000,
          workload: { messagesPerDaemon: 60, submitUntil: 2000, classes: ["SAFE"], size: () => 100 }
        })).run())
        if (v.some((x) => x.property === "D7.1")) firstSeed = seed
      }
      console.log(`broken safe point: first caught by seed ${firstSeed}`)
      expect(firstSeed).toBeGreaterThan(0)
    } finally {
      Ordering.prototype.safePoint = original
    }
  })
})

describe("injected membership bugs are caught (§6.8, §7)", () => {
  /** First seed (of `seeds`) whose run shows one of `props`, or 0. */
  const firstCaught = (seeds: number, props: ReadonlyArray<string>, make: (seed: number) => Sim): { seed: number; found: Array<string> } => {
    for (let seed = 1; seed <= seeds; seed++) {
      const v = checkEvs(make(seed).run(), 10).map((x) => x.property)
      if (v.some((p) => props.includes(p))) return { seed, found: [...new Set(v)] }
    }
    return { seed: 0, found: [] }
  }

  it("a daemon that drops its transitional installs → D2.3 / D2.6 / D1.4", () => {
    const r = firstCaught(20, ["D2.3", "D2.6", "D1.4"], (seed) => new Sim(membershipScenario(seed, true, {
      mutateOutputs: (d, outs) => d === 1000 ? outs.filter((o) => !(o._tag === "Install" && o.kind === "TRANS")) : outs
    })))
    expect(r.seed).toBeGreaterThan(0)
  })

  it("transitional delivery that ignores the commit set after the first hole (§6.8 step 4) → D5 (a message delivered without its cause)", () => {
    const original = Ordering.prototype.installDeliveries
    Ordering.prototype.installDeliveries = function (this: Ordering, high, isHole, _commitSet, trans, emitTrans) {
      return original.call(this, high, isHole, { has: () => true } as unknown as ReadonlySet<number>, trans, emitTrans)
    }
    try {
      // Busy rings cut by many partitions leave holes whose later messages the filter must drop.
      let r = { seed: 0, found: [] as Array<string> }
      for (let seed = 5; seed <= 150 && r.seed === 0; seed++) {
        const v = checkEvs(new Sim(busyPartitionScenario(seed)).run(), 10).map((x) => x.property)
        if (v.includes("D5")) r = { seed, found: [...new Set(v)] }
      }
      console.log(`commit-set filter removed: first caught by seed ${r.seed}: ${r.found.join(" ")}`)
      expect(r.seed).toBeGreaterThan(0)
    } finally {
      Ordering.prototype.installDeliveries = original
    }
  })

  it("the transitional install emitted after the transitional deliveries (§7 step 6) → D1.4 / D1.5", () => {
    const original = Ordering.prototype.installDeliveries
    Ordering.prototype.installDeliveries = function (this: Ordering, high, isHole, commitSet, trans, emitTrans) {
      original.call(this, high, isHole, commitSet, trans, () => {})
      emitTrans()
    }
    try {
      const r = firstCaught(100, ["D1.4", "D1.5"], (seed) => new Sim(membershipScenario(seed, true)))
      expect(r.seed).toBeGreaterThan(0)
    } finally {
      Ordering.prototype.installDeliveries = original
    }
  })
})
