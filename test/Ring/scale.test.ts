/**
 * Scale in the deterministic simulator: many daemons form one ring, split into two halves that
 * each form their own ring, and merge again when the partition heals; the EVS checker
 * (evs-properties.md §2, and the end-of-drain liveness of §3) runs on the logs.
 *
 * 128 daemons (the configured maximum, §12.1) take about five CPU minutes here, almost all of it
 * in the gathers (the J5 evaluation of each JOIN is quadratic in the gather's size), so the test
 * runs 64 daemons from a formed ring and 32 booting alone; bench/scale.simbench.ts has the
 * figures up to 128.
 */
import { describe, expect, it } from "vitest"
import { checkEvs } from "./EvsChecker.js"
import { ALL } from "./Scenarios.js"
import { type LogEvent, Sim } from "./Sim.js"

type Install = Extract<LogEvent, { type: "install" }>

interface Split {
  readonly daemons: number
  readonly boot: "fixed" | "alone"
  readonly partitionAt: number
  readonly healAt: number
  readonly endAt: number
}

const sameSet = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => a.length === b.length && b.every((x) => a.includes(x))

const run = (o: Split): { sim: Sim; halves: ReadonlyArray<ReadonlyArray<number>> } => {
  const side = new Map<number, number>()
  const sim = new Sim({
    seed: o.daemons,
    daemons: o.daemons,
    boot: o.boot,
    bootSpread: 500,
    faults: { loss: 0.01, duplicate: 0.01, minDelay: 0.05, maxDelay: 0.5 },
    // The partition is the only process fault; loss and jitter stop with it.
    faultsUntil: o.healAt,
    endAt: o.endAt,
    maxSteps: 20_000_000,
    workload: { messagesPerDaemon: 4, submitUntil: o.healAt + 2000, classes: ALL, size: () => 200 },
    blocked: (from, to, _channel, now) => now >= o.partitionAt && side.get(from) !== side.get(to)
  })
  sim.ids.forEach((id, i) => side.set(id, i < o.daemons / 2 ? 0 : 1))
  sim.run()
  return { sim, halves: [sim.ids.filter((id) => side.get(id) === 0), sim.ids.filter((id) => side.get(id) === 1)] }
}

const regularInstalls = (sim: Sim, id: number): Array<Install> =>
  [...sim.logs].filter(([k]) => Sim.parse(k).id === id).flatMap(([, log]) =>
    log.filter((e): e is Install => e.type === "install" && e.configId.kind === "REG")
  )

const checkSplitAndMerge = (o: Split): void => {
  const { sim, halves } = run(o)
  // Token losses are expected in a fixed ring cut by a partition (the simulator reports them).
  expect(checkEvs(sim, 5).filter((v) => v.property !== "tokenLoss")).toEqual([])
  for (const half of halves) {
    for (const id of half) {
      const installs = regularInstalls(sim, id)
      // One ring of all before the partition.
      const before = installs.filter((e) => e.t < o.partitionAt).at(-1)
      expect(before?.members.length).toBe(o.daemons)
      // Each half forms its own ring while the partition lasts.
      const during = installs.filter((e) => e.t >= o.partitionAt && e.t < o.healAt).at(-1)
      expect(during !== undefined && sameSet(during.members, half)).toBe(true)
      // One ring of all again after the heal.
      const after = installs.at(-1)!
      expect(after.t).toBeGreaterThan(o.healAt)
      expect(after.members.length).toBe(o.daemons)
    }
  }
}

describe("scale in simulation", () => {
  // About 20 s on an idle 2-core machine (nearly all in the two gathers of 32 and the merge of 64).
  it("64 daemons in one ring split into two halves of 32, each forms its ring, and merge again; EVS holds", { timeout: 60_000 }, () => {
    checkSplitAndMerge({ daemons: 64, boot: "fixed", partitionAt: 3000, healAt: 9000, endAt: 25_000 })
  })

  // About 6 s.
  it("32 daemons boot alone within 500 ms, merge into one ring, split in two and merge again; EVS holds", { timeout: 60_000 }, () => {
    checkSplitAndMerge({ daemons: 32, boot: "alone", partitionAt: 6000, healAt: 12_000, endAt: 30_000 })
  })
})
