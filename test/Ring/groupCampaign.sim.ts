/**
 * The group simulation (test/Ring/GroupSim.ts) as a long campaign, outside `npm test`:
 * `npm run sim -- --seeds 10000 [--from 1]`, or one seed replayed: `npm run sim -- --seed 810`
 * (scripts/sim.ts runs every *.sim.ts with FROM and SEEDS; this one and the ring campaign).
 * Seed N is the same run as seed N of test/Ring/groupSimulation.test.ts. With GROUP_HEAVY=1 the
 * faults last twice as long and clients act twice as often (other runs for the same seeds).
 * Prints, per failing seed, its violations and a trace excerpt (SWEEP=file appends one line per
 * seed to that file). Fails if any seed violates a property.
 */
import { appendFileSync } from "node:fs"
import { expect, it } from "vitest"
import { groupScenario, runGroupSeed } from "./GroupSim.ts"

const env = process.env

it("group campaign", { timeout: 0 }, () => {
  const from = Number(env.FROM ?? 1)
  const n = Number(env.SEEDS ?? 50)
  const heavy = env.GROUP_HEAVY === "1"
  const failed: Array<number> = []
  const t0 = performance.now()
  for (let seed = from; seed < from + n; seed++) {
    const base = groupScenario(seed)
    const { result, report } = runGroupSeed(seed, heavy ? { faultsUntil: base.faultsUntil * 2, actionsPerClient: base.actionsPerClient * 4 } : {})
    const props = [...new Set(result.violations.map((v) => v.property))]
    const line = `group seed ${seed} n ${result.daemons} steps ${result.stats.steps} t ${(performance.now() - t0).toFixed(0)} ${result.violations.length} ${props.join(" ")}`
    if (env.SWEEP !== undefined) appendFileSync(env.SWEEP, `${line}\n`)
    if (report !== undefined) {
      failed.push(seed)
      console.log(report)
    }
  }
  console.log(`group campaign: ${n} seeds from ${from}: ${n - failed.length} passed, ${failed.length} failed${failed.length > 0 ? ` (${failed.slice(0, 20).join(" ")})` : ""}`)
  expect(failed).toEqual([])
})
