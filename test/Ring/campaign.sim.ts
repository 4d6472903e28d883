/**
 * A long randomized campaign, outside `npm test`: `npm run sim -- --seeds 100000 [--from 1]`, or
 * one seed replayed: `npm run sim -- --seed 42`. Prints one line per seed with a violation (and,
 * with SWEEP=file, appends every seed's line to that file): kind, daemons, events, elapsed ms,
 * number of violations and the first ones. Fails if any seed violates a property.
 * Kinds: 0 busy rings cut by many partitions; 1 many crashes and restarts; 2 a one-way link;
 * 3 the default membership scenario with partitions and crashes; 4 rings of 10–16 daemons.
 */
import { appendFileSync } from "node:fs"
import { expect, it } from "vitest"
import { checkEvs } from "./EvsChecker.js"
import { busyPartitionScenario, membershipScenario } from "./Scenarios.js"
import { Sim } from "./Sim.js"

const env = process.env

it("campaign", { timeout: 0 }, () => {
  let failed = 0
  const from = Number(env.FROM ?? 1)
  const n = Number(env.SEEDS ?? 50)
  const t0 = performance.now()
  for (let seed = from; seed < from + n; seed++) {
    const kind = seed % 5
    let a = 0
    let b = 0
    const sim = new Sim(kind === 0 ? busyPartitionScenario(seed) : membershipScenario(seed, true, kind === 1 ? {
      processFaults: { partitions: 8, crashes: 6, downtime: [100, 3000] }, faultsUntil: 8000, endAt: 48_000
    } : kind === 2 ? {
      blocked: (from, to, channel, now) => from === a && to === b && (seed % 2 === 0 ? channel === "TOKEN" : true) && now > 500,
      faultsUntil: 6000, endAt: 46_000
    } : kind === 4 ? {
      daemons: 10 + (seed % 7), processFaults: { partitions: 5, crashes: 4, downtime: [200, 2500] }
    } : {}))
    a = sim.ids[seed % sim.ids.length]!
    b = sim.ids[(seed + 1) % sim.ids.length]!
    sim.run()
    const v = checkEvs(sim, 5)
    const line = `seed ${seed} kind ${kind} n ${sim.ids.length} steps ${sim.stats.steps} t ${(performance.now() - t0).toFixed(0)} ${v.length} ${v.length > 0 ? JSON.stringify(v).slice(0, 500) : ""}`
    if (env.SWEEP !== undefined) appendFileSync(env.SWEEP, `${line}\n`)
    if (v.length > 0) {
      failed++
      console.log(line)
    }
  }
  console.log(`${n} seeds from ${from}: ${n - failed} passed, ${failed} failed`)
  expect(failed).toBe(0)
})
