import { it } from "vitest"
import { Sim } from "./Sim.js"
import { checkEvs } from "./EvsChecker.js"
import { ALL, mixedSize } from "./Scenarios.js"
it("scratch", () => {
  const env = process.env
  const seeds = Number(env.SEEDS ?? 5), from = Number(env.FROM ?? 1)
  let bad = 0
  const t0 = performance.now()
  for (let seed = from; seed < from + seeds; seed++) {
    const n = Number(env.N ?? (2 + (seed % 5)))
    const sim = new Sim({
      seed, daemons: n, boot: "alone", bootSpread: Number(env.SPREAD ?? 500),
      faults: { loss: Number(env.LOSS ?? 0.02), duplicate: 0.01, minDelay: 0.05, maxDelay: 2 },
      faultsUntil: Number(env.FU ?? 3000), endAt: Number(env.END ?? 20000),
      processFaults: env.PF === "1" ? { partitions: 3, crashes: 2, downtime: [200, 2000] } : undefined,
      workload: { messagesPerDaemon: Number(env.MSGS ?? 30), submitUntil: 4000, classes: ALL, size: mixedSize }
    } as any).run()
    const v = checkEvs(sim, 8)
    if (v.length > 0 || env.VERBOSE) {
      bad++
      if (bad <= 3) {
        console.log("seed", seed, "n", n, JSON.stringify(sim.stats), v)
        if (env.VERBOSE) for (const [k, log] of sim.logs) console.log(k, log.filter(e => e.type === "install" || e.type==="crash" || e.type==="start").map(e => e.type === "install" ? `${e.t.toFixed(0)} ${e.configId.kind}:${e.configId.seq}:${e.configId.rep} [${e.members}]` : `${e.t.toFixed(0)} ${e.type}`).join(" | "))
      }
    }
  }
  console.log("bad", bad, "of", seeds, (performance.now() - t0).toFixed(0), "ms")
})
it("debug", () => {
  if (!process.env.DEBUG) return
  const sim = new Sim({
    seed: 3, daemons: 5, boot: "alone", bootSpread: 500,
    faults: { loss: 0.02, duplicate: 0.01, minDelay: 0.05, maxDelay: 2 },
    faultsUntil: 3000, endAt: 20000,
    workload: { messagesPerDaemon: 30, submitUntil: 4000, classes: ALL, size: mixedSize }
  } as any)
  const origApply = (sim as any).apply.bind(sim)
  ;(sim as any).apply = (id: number, outs: any[]) => {
    if (sim.now > 770 && sim.now < 800) console.log(sim.now.toFixed(2), id, sim.procs.get(id)?.engine.state, outs.map((o: any) => o._tag + (o.timer ? ":" + o.timer : "") + (o.to ? ">" + o.to : "") + (o.bytes ? "#" + o.bytes[3] : "")).join(" "))
    return origApply(id, outs)
  }
  sim.run()
  for (const [id, p] of sim.procs) console.log(id, p.engine.state, p.engine.ring?.ringId, p.engine.ring?.lastHop, p.engine.ring?.holding)
})
