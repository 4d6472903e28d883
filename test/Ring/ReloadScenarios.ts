/**
 * Rolling configuration reloads (daemon-protocol §9.5) in the simulator, shared by the reload
 * tests and the §6.15 coverage: four daemons, files that differ by one change, reloads sent to
 * the daemons one after another (as `spmonitor --reload` does).
 */
import { makeRingConfig, type RingConfig, type RingDaemon } from "../../src/Membership/Ring/RingConfig.js"
import { addressOf } from "./CoverageSim.js"
import { ALL, membershipScenario } from "./Scenarios.js"
import { Sim, type SimOptions } from "./Sim.js"

export type Entry = Omit<RingDaemon, "rank">

/** A daemon's entry in a file: its id, the simulator's address, a name and an endpoint (its port). */
export const entry = (id: number, changes: Partial<Entry> = {}): Entry => ({
  id, address: addressOf(id), name: `d${id}`, endpoint: "4803", ...changes
})

/** A file of `entries` in this order, with its own hash (§9.3). */
export const conf = (entries: ReadonlyArray<Entry>, configHash: number, settings: SimOptions["config"] = {}): RingConfig =>
  makeRingConfig(entries, { ...settings, configHash })

/**
 * * `add`: three daemons run; the fourth starts on a file that lists it; the three reload it.
 * * `remove`: four run; three reload a file without the fourth (nearly at once), which reloads
 *   it last and exits.
 * * `isolate`: the fourth daemon's port changes while it is down; the three reload (each
 *   isolates, forms a singleton and merges again); the fourth starts on the new file.
 * * `fatal`: the second daemon reloads a file that moves it to another address and exits.
 */
export type ReloadKind = "add" | "remove" | "isolate" | "fatal"
export const RELOAD_KINDS: ReadonlyArray<ReloadKind> = ["add", "remove", "isolate", "fatal"]

/** Reloads begin at this time, after the first ring has formed. */
export const RELOADS_FROM = 4000

/** The run of `kind`; `adjust` adds observers or output hooks to the options. */
export const reloadSim = (seed: number, kind: ReloadKind, adjust: (o: SimOptions) => SimOptions = (o) => o): Sim => {
  const sim = new Sim(adjust(membershipScenario(seed, false, {
    daemons: 4,
    faultsUntil: 12_000,
    endAt: 40_000,
    workload: { messagesPerDaemon: 40, submitUntil: 12_000, classes: ALL, size: () => 120 }
  })))
  const [a, b, c, d] = sim.ids as [number, number, number, number]
  const file = (entries: ReadonlyArray<Entry>, hash: number) => conf(entries, hash, sim.options.config)
  const four = file(sim.ids.map((id) => entry(id)), 4)
  const three = file([a, b, c].map((id) => entry(id)), 3)
  const t = RELOADS_FROM
  switch (kind) {
    case "add":
      sim.bootAt(a, 0, three).bootAt(b, 150, three).bootAt(c, 300, three).bootAt(d, t - 1000, four)
      return sim.reloadAt(a, t, four).reloadAt(b, t + 400, four).reloadAt(c, t + 1500, four)
    case "remove":
      sim.bootAt(a, 0, four).bootAt(b, 100, four).bootAt(c, 200, four).bootAt(d, 300, four)
      return sim.reloadAt(a, t, three).reloadAt(b, t + 1, three).reloadAt(c, t + 2, three).reloadAt(d, t + 2000, three)
    case "isolate": {
      const moved = file(sim.ids.map((id) => (id === d ? entry(id, { endpoint: "4903" }) : entry(id))), 5)
      sim.bootAt(a, 0, four).bootAt(b, 100, four).bootAt(c, 200, four).bootAt(d, t + 5000, moved)
      return sim.reloadAt(a, t, moved).reloadAt(b, t + 500, moved).reloadAt(c, t + 1000, moved)
    }
    case "fatal": {
      const moved = file(sim.ids.map((id) => (id === b ? entry(id, { address: "10.9.9.9" }) : entry(id))), 5)
      sim.bootAt(a, 0, four).bootAt(b, 100, four).bootAt(c, 200, four).bootAt(d, 300, four)
      return sim.reloadAt(b, t, moved)
    }
  }
}
