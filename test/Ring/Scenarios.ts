/** Simulation scenarios shared by the ring tests. */
import type { Prng } from "../../src/Membership/Ring/Prng.js"
import type { DeliveryClass } from "../../src/Membership/Ring/Types.js"
import type { SimOptions } from "./Sim.js"

export const ALL: ReadonlyArray<DeliveryClass> = ["RELIABLE", "ORDERED", "SAFE"]

/** 80 % small messages (packing), 17 % a few fragments, 3 % up to 40 KB (many fragments). */
export const mixedSize = (r: Prng): number => {
  const x = r.next()
  return x < 0.8 ? 12 + r.int(300) : x < 0.97 ? 1000 + r.int(4000) : 10_000 + r.int(30_000)
}

export const scenario = (seed: number, overrides: Partial<SimOptions> = {}): SimOptions => ({
  seed,
  daemons: 3 + (seed % 7),
  // Loss stays ≤ 8 %: with a fixed membership a token lost 6 times in a row (§5.13) cannot be
  // recovered; that is the job of §6.
  faults: { loss: [0, 0.01, 0.03, 0.08][seed % 4]!, duplicate: 0.02, minDelay: 0.05, maxDelay: seed % 3 === 0 ? 5 : 1 },
  faultsUntil: 2000,
  endAt: 6000,
  config: { acceleratedRing: seed % 2 === 0 },
  workload: { messagesPerDaemon: 30, submitUntil: 2000, classes: ALL, size: mixedSize },
  ...overrides
})


/**
 * Membership scenario (§6): daemons boot alone within 500 ms (§6.11) and merge; optionally
 * partitions, crashes and restarts with a new incarnation until `faultsUntil`, then a drain.
 */
export const membershipScenario = (seed: number, processFaults: boolean, overrides: Partial<SimOptions> = {}): SimOptions => ({
  seed,
  daemons: 2 + (seed % 8),
  boot: "alone",
  bootSpread: 500,
  faults: { loss: [0.01, 0.03, 0.06][seed % 3]!, duplicate: 0.01, minDelay: 0.05, maxDelay: seed % 4 === 0 ? 5 : 2 },
  faultsUntil: processFaults ? 5000 : 3000,
  // The drain must outlast the probe back-off (up to LookupTimeout = 30 s) and quarantines
  // (evs-properties §1.5 DrainTime); idle simulated time is cheap.
  endAt: processFaults ? 45_000 : 12_000,
  maxSteps: 1_000_000,
  config: { acceleratedRing: seed % 2 === 0 },
  workload: { messagesPerDaemon: 25, submitUntil: processFaults ? 6000 : 3000, classes: ALL, size: mixedSize },
  ...(processFaults ? { processFaults: { partitions: 4, crashes: 3, downtime: [200, 2500] as const } } : {}),
  ...overrides
})

/** Busy rings (300 messages per daemon) cut by many partitions: recovery leaves holes (§6.6). */
export const busyPartitionScenario = (seed: number): SimOptions => membershipScenario(seed, true, {
  daemons: 3 + (seed % 3),
  faults: { loss: 0.1, duplicate: 0.01, minDelay: 0.05, maxDelay: 2 },
  processFaults: { partitions: 16, crashes: 0, downtime: [200, 2500] },
  faultsUntil: 4000,
  endAt: 44_000,
  workload: { messagesPerDaemon: 300, submitUntil: 4000, classes: ALL, size: () => 200 }
})

/**
 * §11.3 stall rule: 4 daemons, one of which (set with `stallOn` once the Sim has its ids)
 * receives tokens but no DATA from 1 s until 9 s.
 */
export const stallScenario = (seed: number): { readonly options: SimOptions; readonly stallOn: (id: number) => void } => {
  let stalled = 0
  const options = membershipScenario(seed, false, {
    daemons: 4,
    boot: "fixed",
    faults: { loss: 0.01, duplicate: 0, minDelay: 0.05, maxDelay: 1 },
    blocked: (_from, to, channel, now) => to === stalled && channel === "DATA" && now > 1000,
    processFaults: { partitions: 0, crashes: 0, downtime: [0, 0] },
    faultsUntil: 9000,
    endAt: 25_000,
    workload: { messagesPerDaemon: 60, submitUntil: 8000, classes: ["ORDERED", "SAFE"], size: () => 100 }
  })
  return { options, stallOn: (id) => (stalled = id) }
}
