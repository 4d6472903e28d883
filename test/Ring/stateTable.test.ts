/**
 * Every cell of the state × event table of daemon-protocol §6.15 is exercised: the scenario
 * families of the ring simulations run with an observer on every engine step (test/Ring/CoverageSim.ts)
 * that classifies the step into a row of the table (state before, event, condition) and checks
 * the row's next state and visible action. Prints the hit counts per cell.
 *
 * - Rows that cannot occur in the engine as designed are excluded, with the reason, in `CELLS`
 *   (monitor packets never reach the engine). The monitor RELOAD row is the engine's
 *   `Reconfigure` input (§9.5), driven by the rolling reloads of test/Ring/ReloadScenarios.ts.
 * - Three rows are defensive: unreachable while every daemon follows the protocol (the
 *   two-rotation argument of §6.7). The ordinary families must never reach them; families that
 *   inject a misbehaving peer (a member that lowers or raises `recDone` against the rule) do.
 * - One row needs a per-datagram delay the simulator's network cannot produce (COMMIT COLLECT of
 *   a newer ring in COMMIT): a scripted network drives it (`ScriptedNet`).
 */
import { describe, expect, it } from "vitest"
import { makeRingConfig } from "../../src/Membership/Ring/RingConfig.js"
import type { RingOutput } from "../../src/Membership/Ring/Types.js"
import { decodeRingPacket, encodeToken, type Token, TokenPhase } from "../../src/Protocol/Ring/index.js"
import { addressOf, CellCoverage, CELLS, type RunKind, ScriptedNet } from "./CoverageSim.js"
import { checkEvs } from "./EvsChecker.js"
import { RELOAD_KINDS, reloadSim } from "./ReloadScenarios.js"
import { ALL, busyPartitionScenario, membershipScenario, scenario, stallScenario } from "./Scenarios.js"
import { Sim, type SimOptions } from "./Sim.js"

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

/** Rewrites the RECOVERY-phase tokens daemon `from()` sends (a peer that breaks the §6.7 step 6 rule). */
const rewriteRecoveryTokens = (sim: () => Sim, from: () => number, f: (t: Token) => void) =>
  (d: number, outs: Array<RingOutput>): Array<RingOutput> => {
    if (d !== from()) return outs
    return outs.map((o) => {
      if (o._tag !== "SendUnicast" || o.bytes[3] !== 0x02) return o
      const r = decodeRingPacket(o.bytes)
      if (!r.ok || r.body._tag !== "TOKEN" || r.body.token.phase !== TokenPhase.RECOVERY) return o
      const t = { ...r.body.token }
      f(t)
      const e = sim().procs.get(d)!.engine
      return { ...o, bytes: encodeToken(e.stamp, t, e.config.maxTokenSize) }
    })
  }

interface Family {
  readonly name: string
  readonly kind: RunKind
  readonly seeds: ReadonlyArray<number>
  /** Builds the run; the coverage observer is added by the caller. */
  readonly make: (seed: number, withObserver: (o: SimOptions) => SimOptions) => Sim
  /** Checks the finished run (EVS for the families not covered by other tests). */
  readonly check?: (sim: Sim) => void
}

const evsClean = (sim: Sim): void => {
  expect(checkEvs(sim, 3).filter((v) => v.property !== "tokenLoss")).toEqual([])
}

const FAMILIES: ReadonlyArray<Family> = [
  // The families of simulation.test.ts and membership.test.ts (fewer seeds).
  { name: "fixed ring, loss/dup/reorder", kind: "simulation", seeds: range(1, 10), make: (s, w) => new Sim(w(scenario(s))) },
  { name: "boot alone and merge", kind: "simulation", seeds: range(1, 10), make: (s, w) => new Sim(w(membershipScenario(s, false))) },
  { name: "partitions, crashes, restarts", kind: "simulation", seeds: range(1, 10), make: (s, w) => new Sim(w(membershipScenario(s, true))) },
  {
    name: "many crashes and restarts", kind: "simulation", seeds: range(1, 10),
    make: (s, w) => new Sim(w(membershipScenario(s, true, { processFaults: { partitions: 8, crashes: 6, downtime: [100, 3000] }, faultsUntil: 8000, endAt: 48_000 })))
  },
  { name: "busy rings cut by partitions", kind: "simulation", seeds: range(1, 3), make: (s, w) => new Sim(w(busyPartitionScenario(s))) },
  {
    name: "one-way link", kind: "simulation", seeds: range(1, 10),
    make: (seed, w) => {
      let a = 0
      let b = 0
      const sim = new Sim(w(membershipScenario(seed, seed % 2 === 0, {
        blocked: (from, to, channel, now) => from === a && to === b && (seed % 3 === 0 || channel === "TOKEN") && now > 500,
        faultsUntil: 6000,
        endAt: 46_000
      })))
      a = sim.ids[seed % sim.ids.length]!
      b = sim.ids[(seed + 1) % sim.ids.length]!
      return sim
    }
  },
  {
    name: "graceful leave", kind: "simulation", seeds: range(1, 4),
    make: (s, w) => new Sim(w(membershipScenario(s, false, { daemons: 4, processFaults: { partitions: 0, crashes: 0, downtime: [0, 0], shutdowns: [[5000, 1]] } })))
  },
  {
    // Delays up to 40 ms reorder joins, commit tokens and old-ring DATA across state changes.
    name: "partitions with 40 ms jitter", kind: "simulation", seeds: range(1, 12),
    make: (s, w) => new Sim(w(membershipScenario(s, true, { faults: { loss: 0.03, duplicate: 0.02, minDelay: 0.05, maxDelay: 40 } })))
  },
  // Targeted families.
  {
    // §11.3: a daemon that receives tokens but no data excludes itself (membership.test.ts).
    name: "stall rule", kind: "simulation", seeds: [1],
    make: (seed, w) => {
      const stall = stallScenario(seed)
      const sim = new Sim(w(stall.options))
      stall.stallOn(sim.ids[2]!)
      return sim
    },
    check: (sim) => {
      evsClean(sim)
      expect(sim.procs.get(sim.ids[2]!)!.engine.counters.selfExclusions).toBeGreaterThanOrEqual(1)
    }
  },
  {
    // A graceful leave while the leaver's last token is still in flight: with up to 5 ms of
    // jitter its LEAVE (DATA port) can overtake the token (TOKEN port), and the token then
    // arrives at a survivor that already installed the ring without the leaver.
    name: "graceful leave overtaking the leaver's last token", kind: "simulation", seeds: range(1, 30),
    make: (s, w) => new Sim(w(membershipScenario(s, false, {
      daemons: 2,
      faults: { loss: 0, duplicate: 0, minDelay: 0.05, maxDelay: 5 },
      workload: { messagesPerDaemon: 400, submitUntil: 8000, classes: ALL, size: () => 100 },
      processFaults: { partitions: 0, crashes: 0, downtime: [0, 0], shutdowns: [[5000 + s * 0.37, 1]] },
      faultsUntil: 9000,
      endAt: 12_000
    }))),
    check: evsClean
  },
  {
    // Every copy of the commit token lost on one link for 1.8 s after a graceful leave: the
    // members in COMMIT back off on their Commit timers.
    name: "commit tokens lost on one link", kind: "simulation", seeds: range(1, 3),
    make: (seed, w) => {
      let b = 0
      let c = 0
      const sim = new Sim(w(membershipScenario(seed, false, {
        daemons: 4,
        boot: "fixed",
        faults: { loss: 0, duplicate: 0, minDelay: 0.05, maxDelay: 0.5 },
        blocked: (from, to, _channel, now, bytes) => from === b && to === c && bytes[3] === 0x11 && now > 2000 && now < 3800,
        processFaults: { partitions: 0, crashes: 0, downtime: [0, 0], shutdowns: [[2000, 3]] },
        faultsUntil: 20_000,
        endAt: 30_000,
        workload: { messagesPerDaemon: 20, submitUntil: 10_000, classes: ALL, size: () => 100 }
      })))
      b = sim.ids[1]!
      c = sim.ids[2]!
      return sim
    },
    check: evsClean
  },
  {
    // §9.5: daemons added, removed, another's port changed (isolate), my own address changed (exit).
    name: "configuration reloads", kind: "simulation", seeds: range(0, 8),
    make: (seed, w) => reloadSim(seed, RELOAD_KINDS[seed % RELOAD_KINDS.length]!, w),
    check: evsClean
  },
  // Injected misbehaviour: the defensive rows.
  {
    // The second member lowers recDone on the tokens it sends to the third: the first two
    // install, the third is complete but has not installed when new-ring DATA and the
    // OPERATIONAL token reach it.
    name: "injected: a member lowers recDone", kind: "injected", seeds: [1, 2],
    make: (seed, w) => {
      let sim!: Sim
      let b = 0
      sim = new Sim(w(membershipScenario(seed, false, {
        daemons: 3,
        mutateOutputs: rewriteRecoveryTokens(() => sim, () => b, (t) => {
          t.recDone = 0
          t.recDoneId = b
        })
      })))
      b = sim.ids[1]!
      return sim
    },
    check: evsClean
  },
  {
    // The third member misses old-ring DATA (and every retransmission) and claims to be
    // complete: the others install, the OPERATIONAL token finds it incomplete (an invariant
    // violation, then back-off). Its lie breaks D7.2, as expected.
    name: "injected: an incomplete member claims completion", kind: "injected", seeds: [1],
    make: (seed, w) => {
      let sim!: Sim
      let c = 0
      sim = new Sim(w(membershipScenario(seed, false, {
        daemons: 4,
        boot: "fixed",
        faults: { loss: 0.01, duplicate: 0, minDelay: 0.05, maxDelay: 1 },
        workload: { messagesPerDaemon: 200, submitUntil: 6000, classes: ALL, size: () => 100 },
        processFaults: { partitions: 0, crashes: 0, downtime: [0, 0], shutdowns: [[3000, 3]] },
        blocked: (_from, to, channel, now) => to === c && channel === "DATA" && now > 2800 && now < 5000,
        faultsUntil: 8000,
        endAt: 20_000,
        mutateOutputs: rewriteRecoveryTokens(() => sim, () => c, (t) => {
          t.recDone = 1
          t.recDoneId = 0
        })
      })))
      c = sim.ids[2]!
      return sim
    },
    check: (sim) => {
      const found = new Set(checkEvs(sim, 30).map((v) => v.property))
      expect(found.has("invariant")).toBe(true)
    }
  }
]

/**
 * COMMIT, `COMMIT` COLLECT of a newer ring. The COLLECT of attempt Y can reach member B while B is
 * still in COMMIT for an older attempt X only if the representative R counted B's agreement
 * after backing off from X, i.e. from a JOIN that B sent in GATHER before it took X's COLLECT and
 * that reached R more than a Commit timeout later. Schedule (4 daemons R < B < C < D, one
 * formed ring): D leaves; R forms X; the first four copies of X's COLLECT to B are lost (B
 * takes it 400 ms late, so its Commit timer fires 400 ms after R's) and B → C loses X's COLLECT
 * (X never completes); B's JOINs to R are held back until R has backed off; R's and C's JOINs to B
 * are lost (B would give up on them). R backs off at its Commit timer, gathers C's and B's
 * (late) agreement, forms Y and sends Y's COLLECT to B, still in COMMIT for X.
 *
 * The Commit timeout is 900 ms here, below ReachWindow (4 × Join = 1000 ms): with the default
 * 1250 ms, C has heard nothing from R (in COMMIT) for longer than ReachWindow when R backs off, J5
 * judges the pair asymmetric and C excludes itself before Y can form (reported separately).
 */
const collectOfANewerRing = (cov: CellCoverage): void => {
  const [R, B, C, D] = [11, 12, 13, 14]
  const config = makeRingConfig([R, B, C, D].map((id) => ({ id, address: addressOf(id) })), { timeouts: { commit: 900 } })
  let tX: number | undefined
  let xSeq = 0
  let lostToB = 0
  const commitSeq = (bytes: Buffer): number => {
    const r = decodeRingPacket(bytes)
    return r.ok && r.body._tag === "COMMIT" ? r.body.commit.newRing.seq : -1
  }
  const net = new ScriptedNet(config, (d) => {
    if (d.type === 0x11 && d.from === R && tX === undefined) {
      tX = d.now
      xSeq = commitSeq(d.bytes)
    }
    if (tX !== undefined && d.now < tX + 2000) {
      if (d.type === 0x11 && commitSeq(d.bytes) === xSeq) {
        if (d.from === R && d.to === B && ++lostToB <= 4) return "drop"
        if (d.from === B && d.to === C) return "drop"
      }
      if (d.type === 0x10) {
        if (d.from === B && d.to === R && d.now < tX + 950) return tX + 950 - d.now
        if ((d.from === R || d.from === C) && d.to === B) return "drop"
      }
    }
    return 0.1
  }, cov.onStep)
  net.startFixed()
  net.at(1000, () => net.shutdown(D))
  net.run(10_000)
  // After the schedule every daemon is back in one ring.
  for (const e of net.engines.values()) {
    expect(e.state).toBe("OPERATIONAL")
    expect(e.ring!.members).toEqual([R, B, C])
  }
}

describe("§6.15 state × event table", () => {
  it("the simulations exercise every cell; no step contradicts its row", { timeout: 60_000 }, () => {
    const cov = new CellCoverage()
    const timing: Array<string> = []
    for (const f of FAMILIES) {
      const t0 = performance.now()
      cov.kind = f.kind
      for (const seed of f.seeds) {
        cov.run = `${f.name}, seed ${seed}`
        const sim = f.make(seed, (o) => ({ ...o, onStep: cov.onStep })).run()
        f.check?.(sim)
      }
      timing.push(`${f.name}: ${f.seeds.length} runs, ${(performance.now() - t0).toFixed(0)} ms`)
    }
    cov.kind = "scripted"
    cov.run = "scripted: COLLECT of a newer ring"
    collectOfANewerRing(cov)

    console.log(`§6.15 cells (${cov.steps} classified steps):\n${cov.table()}\n\nsteps matching no row (§6.15: drop and count):\n${cov.unlistedReport()}\n\n${timing.join("\n")}`)

    expect(cov.deviations).toEqual([])
    const required = CELLS.filter((c) => c.excluded === undefined)
    expect(required.filter((c) => (cov.hits.get(c.id) ?? 0) === 0).map((c) => c.id)).toEqual([])
    // The defensive rows are reached only when a peer is made to misbehave.
    const natural = cov.hitsByKind.get("simulation")!
    expect(CELLS.filter((c) => c.defensive !== undefined && (natural.get(c.id) ?? 0) > 0).map((c) => c.id)).toEqual([])
    expect(CELLS.filter((c) => c.excluded !== undefined).map((c) => c.id)).toEqual(["any.monitor"])
  })
})
