import { appendFileSync } from "node:fs"
import { it } from "vitest"
import { Sim } from "./Sim.js"
import { checkEvs } from "./EvsChecker.js"
import { ALL, mixedSize } from "./Scenarios.js"
const env = process.env
const makeSim = (seed: number) => {
  const n = Number(env.N ?? (2 + (seed % Number(env.NMOD ?? 5))))
  return new Sim({
    seed, daemons: n, boot: "alone", bootSpread: Number(env.SPREAD ?? 500),
    faults: { loss: Number(env.LOSS ?? 0.02), duplicate: 0.01, minDelay: 0.05, maxDelay: 2 },
    faultsUntil: Number(env.FU ?? 3000), endAt: Number(env.END ?? 20000),
    maxSteps: Number(env.MAXSTEPS ?? 3_000_000),
    processFaults: env.PF === "1" ? { partitions: Number(env.PARTS ?? 3), crashes: Number(env.CRASHES ?? 2), downtime: [200, 2000] } : undefined,
    workload: { messagesPerDaemon: Number(env.MSGS ?? 30), submitUntil: 4000, classes: ALL, size: mixedSize }
  } as any)
}
it("scratch", { timeout: 3_000_000 }, () => {
  const seeds = Number(env.SEEDS ?? 5), from = Number(env.FROM ?? 1)
  let bad = 0
  const t0 = performance.now()
  for (let seed = from; seed < from + seeds; seed++) {
    const sim = makeSim(seed)
    const lo = Number(env.LO ?? 0), hi = Number(env.HI ?? 0)
    if (hi > 0) {
      const origApply = (sim as any).apply.bind(sim)
      ;(sim as any).apply = (id: number, outs: any[]) => {
        if (sim.now > lo && sim.now < hi) appendFileSync("/tmp/ringtrace.txt", `${sim.now.toFixed(3)} ${id} ${sim.procs.get(id)?.engine.state} ${outs.map((o: any) => o._tag + (o.timer ? ":" + o.timer : "") + (o.to ? ">" + o.to : "") + (o.bytes ? "#" + o.bytes[3] : "")).join(" ")}\n`)
        return origApply(id, outs)
      }
    }
    if (env.TIMES) appendFileSync("/tmp/ringprog.txt", `start ${seed}\n`)
    sim.run()
    const v = checkEvs(sim, 8)
    if (env.TIMES) appendFileSync("/tmp/ringprog.txt", `seed ${seed} n ${sim.ids.length} steps ${sim.stats.steps} ${(performance.now() - t0).toFixed(0)} ${v.length}\n`)
    if (v.length > 0 || env.VERBOSE) {
      bad++
      if (bad <= 3) {
        console.log("seed", seed, "n", sim.ids.length, JSON.stringify(sim.stats), v)
        if (env.VERBOSE) for (const [k, log] of sim.logs) console.log(k, log.filter(e => e.type === "install" || e.type==="crash" || e.type==="start").map(e => e.type === "install" ? `${e.t.toFixed(0)} ${e.configId.kind}:${e.configId.seq}:${e.configId.rep} [${e.members}]` : `${e.t.toFixed(0)} ${e.type}`).join(" | "))
        if (env.VERBOSE) for (const [id, p] of sim.procs) console.log(id, p.engine.state, p.engine.ring?.ringId, JSON.stringify(p.engine.counters))
      }
    }
  }
  console.log("bad", bad, "of", seeds, (performance.now() - t0).toFixed(0), "ms")
})
