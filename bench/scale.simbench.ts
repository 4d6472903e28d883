/**
 * Scale figures from the deterministic simulator (test/Ring/Sim.ts): N = 3 … 128 daemons with the
 * default LAN timeouts (the RingConfig defaults, daemon-protocol §12.2) and with the fast profile
 * (src/Config/Defaults.ts `FAST_TIMEOUTS`), one-way network delay fixed at 0.1 ms, no loss.
 *
 * One run per (N, profile), on a ring that starts formed (`boot: "fixed"`):
 *
 * 1. token rotation under a steady light load: about two 100-byte messages per rotation
 *    ring-wide (so the token is hardly ever held, §5.12) for about 250 rotations; the median
 *    simulated time between the leader's token visits, and the real CPU time per token hop (all
 *    steps of all engines in the window, divided by the token visits);
 * 2. the crash of one daemon (not the leader): it is cut off in both directions, which is what
 *    the survivors see of a crash; time to the new regular configuration at every survivor;
 * 3. a partition of the survivors into two halves: time until both halves have installed their
 *    own configuration at every member;
 * 4. heal (the crashed daemon comes back too): time to the merged configuration of all N at every
 *    daemon. The probe back-off (§6.12, R6 item 3) grows during the partition, so this figure
 *    depends on the partition's length (`PHASE` below).
 *
 * The real CPU time of each phase is the time spent inside the engines' steps during it; "CPU
 * total" is the whole run (simulator included). The EVS checker runs on every log.
 *
 * Run: `npx vitest run --config vitest.bench.config.ts bench/scale.simbench.ts` (part of `npm run
 * bench`). It prints tables and asserts nothing (speed targets live in bench/README.md, never in
 * tests). About 1.5 minutes on the standard machine. N = 128 runs the rotation phase only: its
 * gathers cost about 10 CPU minutes per profile (crash ≈ 5, partition ≈ 1.5, heal ≈ 4: the J5
 * evaluation of every JOIN is quadratic in the gather's size, src/Membership/Ring/Reachability.ts,
 * and every daemon's JOINs reach all others twice per Join interval). `SCALE_FULL=1` runs all
 * phases for every size (about 25 minutes); `SCALE_N=3,9` picks the sizes.
 */
import { it } from "vitest"
import { FAST_TIMEOUTS } from "../src/Config/Defaults.ts"
import { makeRingConfig, type RingTimeouts } from "../src/Membership/Ring/RingConfig.ts"
import type { RingEngine } from "../src/Membership/Ring/RingEngine.ts"
import type { RingInput, RingOutput } from "../src/Membership/Ring/Types.ts"
import { checkEvs } from "../test/Ring/EvsChecker.ts"
import { type LogEvent, Sim } from "../test/Ring/Sim.ts"

const DELAY = 0.1
/** The light load: this many rotations' worth, two messages per rotation ring-wide. */
const LOAD_ROTATIONS = 250
const MESSAGES_PER_ROTATION = 2
/** Rotations are measured from here (ms) to the end of the load. */
const ROTATION_FROM = 50

interface Profile {
  readonly name: string
  readonly timeouts: Partial<RingTimeouts>
  /** Length of the crash and partition phases (ms): several times the slowest path through GATHER. */
  readonly phase: number
  /** Time allowed after the heal (the probe back-off reaches `probeMax` = 30 s). */
  readonly healWait: number
}

const LAN: Profile = { name: "LAN (defaults)", timeouts: {}, phase: 8000, healWait: 40_000 }
const FAST: Profile = {
  name: "fast",
  timeouts: {
    tokenLoss: FAST_TIMEOUTS.tokenLoss,
    tokenRetransmit: FAST_TIMEOUTS.tokenRetransmit,
    tokenHold: FAST_TIMEOUTS.tokenHold,
    join: FAST_TIMEOUTS.join,
    consensus: FAST_TIMEOUTS.consensus,
    commit: FAST_TIMEOUTS.commit,
    probeMin: FAST_TIMEOUTS.probeInterval,
    probeMax: FAST_TIMEOUTS.probeMax
  },
  phase: 3000,
  healWait: 40_000
}

interface Row {
  readonly n: number
  readonly profile: string
  readonly rotationMs: number
  readonly holds: number
  readonly cpuUsPerHop: number
  readonly crashMs: number | undefined
  readonly partitionMs: number | undefined
  readonly healMs: number | undefined
  readonly partitionLength: number | undefined
  readonly cpuPhase: { readonly crash: number; readonly partition: number; readonly heal: number }
  readonly cpuTotal: number
  readonly steps: number
  readonly evs: string
}

type Install = Extract<LogEvent, { type: "install" }>

/** Latest, over the processes in `who`, of the first regular install after `t` that satisfies `ok` (undefined if one never did). */
const allInstalled = (sim: Sim, who: ReadonlyArray<number>, t: number, ok: (e: Install, id: number) => boolean): number | undefined => {
  let worst = 0
  for (const [key, log] of sim.logs) {
    const id = Sim.parse(key).id
    if (!who.includes(id)) continue
    const e = log.find((x): x is Install => x.type === "install" && x.configId.kind === "REG" && x.t >= t && ok(x, id))
    if (e === undefined) return undefined
    worst = Math.max(worst, e.t - t)
  }
  return worst
}

const sameSet = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => a.length === b.length && b.every((x) => a.includes(x))

/** `full`: all four phases; otherwise the rotation only. */
const measure = (n: number, profile: Profile, full: boolean): Row => {
  const loadUntil = ROTATION_FROM + LOAD_ROTATIONS * n * DELAY
  const tCrash = loadUntil + 1000
  const tPart = tCrash + profile.phase
  const tHeal = tPart + profile.phase
  const endAt = full ? tHeal + profile.healWait : loadUntil + 500
  // Rotation ≈ n × DELAY: MESSAGES_PER_ROTATION per rotation ring-wide.
  const perDaemon = Math.max(1, Math.ceil((MESSAGES_PER_ROTATION * LOAD_ROTATIONS) / n))
  let crashed = 0
  const side = new Map<number, number>()
  const leaderVisits: Array<number> = []
  let holds = 0
  let hopsInWindow = 0
  let cpuWindow = 0
  const cpu = { crash: 0, partition: 0, heal: 0 }
  let leader = 0
  const onStep = (_d: number, engine: RingEngine, input: RingInput, run: () => Array<RingOutput>): Array<RingOutput> => {
    const accepted = engine.counters.tokensAccepted
    const held = engine.counters.tokenHolds
    const t0 = performance.now()
    const outs = run()
    const dt = performance.now() - t0
    const now = input.now
    if (now >= ROTATION_FROM && now < loadUntil) {
      cpuWindow += dt
      if (engine.counters.tokensAccepted > accepted) {
        hopsInWindow++
        if (engine.myId === leader) leaderVisits.push(now)
      }
      if (engine.myId === leader) holds += engine.counters.tokenHolds - held
    } else if (now >= tCrash && now < tPart) cpu.crash += dt
    else if (now >= tPart && now < tHeal) cpu.partition += dt
    else if (now >= tHeal) cpu.heal += dt
    return outs
  }
  const sim = new Sim({
    seed: n,
    daemons: n,
    boot: "fixed",
    faults: { loss: 0, duplicate: 0, minDelay: DELAY, maxDelay: DELAY },
    faultsUntil: endAt,
    endAt,
    maxSteps: 100_000_000,
    config: { timeouts: profile.timeouts },
    workload: { messagesPerDaemon: perDaemon, submitUntil: loadUntil, classes: ["ORDERED"], size: () => 100 },
    blocked: (from, to, _channel, now) => {
      if (now >= tCrash && now < tHeal && (from === crashed || to === crashed)) return true
      return now >= tPart && now < tHeal && side.get(from) !== side.get(to)
    },
    onStep
  })
  leader = sim.ids[0]!
  crashed = sim.ids[Math.floor(n / 2)]!
  const survivors = sim.ids.filter((id) => id !== crashed)
  survivors.forEach((id, i) => side.set(id, i < survivors.length / 2 ? 0 : 1))
  const c0 = process.cpuUsage()
  sim.run()
  const c = process.cpuUsage(c0)
  const gaps = leaderVisits.slice(1).map((t, i) => t - leaderVisits[i]!)
  gaps.sort((a, b) => a - b)
  const rotationMs = gaps.length === 0 ? NaN : gaps[Math.floor(gaps.length / 2)]!
  const crashMs = full ? allInstalled(sim, survivors, tCrash, (e) => sameSet(e.members, survivors)) : undefined
  const halves = [survivors.filter((id) => side.get(id) === 0), survivors.filter((id) => side.get(id) === 1)]
  const partitionMs = full ? allInstalled(sim, survivors, tPart, (e, id) => sameSet(e.members, halves[side.get(id)!]!)) : undefined
  const healMs = full ? allInstalled(sim, sim.ids, tHeal, (e) => e.members.length === n) : undefined
  // Token losses are expected here (the simulator reports them for fixed rings).
  const v = checkEvs(sim, 5).filter((x) => x.property !== "tokenLoss" && (full || x.property !== "L1"))
  return {
    n, profile: profile.name, rotationMs, holds,
    cpuUsPerHop: hopsInWindow === 0 ? NaN : (cpuWindow * 1000) / hopsInWindow,
    crashMs, partitionMs, healMs, partitionLength: full ? profile.phase : undefined,
    cpuPhase: cpu, cpuTotal: (c.user + c.system) / 1000, steps: sim.stats.steps,
    evs: v.length === 0 ? "ok" : v.map((x) => x.property).join(" ")
  }
}

const timeoutsOf = (p: Profile): RingTimeouts => makeRingConfig([{ id: 1, address: "10.0.0.1" }], { timeouts: p.timeouts }).timeouts

const ms = (x: number | undefined): string => x === undefined ? "—" : x.toFixed(0)
const sec = (x: number): string => (x / 1000).toFixed(1)

it("scale in simulation: rotation, crash, partition and heal for 3 … 128 daemons", { timeout: 0 }, () => {
  const sizes = (process.env.SCALE_N ?? "3,9,32,64,128").split(",").map(Number)
  const fullAll = process.env.SCALE_FULL === "1"
  const rows: Array<Row> = []
  const t0 = performance.now()
  for (const n of sizes) {
    for (const p of [LAN, FAST]) {
      const r = measure(n, p, n < 128 || fullAll)
      rows.push(r)
      console.log(`N=${n} ${p.name}: ${sec(r.cpuTotal)} s CPU, ${r.steps} steps`)
    }
  }
  const lines = [
    `\nTimeouts (ms): LAN ${JSON.stringify(timeoutsOf(LAN))}; fast ${JSON.stringify(timeoutsOf(FAST))}.`,
    `One-way delay ${DELAY} ms, no loss; light load ≈ ${MESSAGES_PER_ROTATION} messages of 100 B per rotation (median leader-to-leader time; holds = times the leader held the idle token during the load); crash = one daemon cut off; partition = survivors split in halves for ${LAN.phase / 1000} s (LAN) / ${FAST.phase / 1000} s (fast), then healed.`,
    "",
    "| N | timeouts | rotation ms (sim) | holds | CPU µs / token hop | crash → new config at all survivors, ms | partition → both halves installed, ms | heal → merged config of N, ms | CPU s: crash / partition / heal phase | CPU s total | events | EVS |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
  ]
  for (const r of rows) {
    lines.push(
      `| ${r.n} | ${r.profile} | ${r.rotationMs.toFixed(2)} | ${r.holds} | ${r.cpuUsPerHop.toFixed(1)} | ${ms(r.crashMs)} | ${ms(r.partitionMs)} | ${ms(r.healMs)} | ` +
        `${r.partitionLength === undefined ? "— / — / —" : `${sec(r.cpuPhase.crash)} / ${sec(r.cpuPhase.partition)} / ${sec(r.cpuPhase.heal)}`} | ` +
        `${sec(r.cpuTotal)} | ${r.steps} | ${r.evs} |`
    )
  }
  lines.push(`\nwall time of the benchmark: ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  console.log(lines.join("\n"))
})
