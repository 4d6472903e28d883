/**
 * Configuration reload (daemon-protocol §9.5): the classification of a re-read file, the
 * engine's `Reconfigure` input driven by hand (deferral while not OPERATIONAL, settings only,
 * refusal), and rolling reloads in the simulator, checked with the EVS checker: a daemon added,
 * one removed (it exits when it reloads a file without itself), another daemon's addressing
 * changed (isolate, singleton, merge again), this daemon's own identity changed (exit).
 */
import { describe, expect, it } from "vitest"
import { classifyReload } from "../../src/Membership/Ring/Reload.js"
import type { RingConfig } from "../../src/Membership/Ring/RingConfig.js"
import { RELOAD_EXIT_CODE, RingEngine } from "../../src/Membership/Ring/RingEngine.js"
import type { ReloadOutcome, RingOutput, TimerName } from "../../src/Membership/Ring/Types.js"
import { encodeProbe } from "../../src/Protocol/Ring/ControlPackets.js"
import { checkEvs } from "./EvsChecker.js"
import { conf, entry, RELOADS_FROM, type ReloadKind, reloadSim } from "./ReloadScenarios.js"
import { Sim } from "./Sim.js"

const A = entry(11)
const B = entry(12)
const C = entry(13)
const D = entry(14)

describe("what a reloaded file changes (§9.5)", () => {
  const current = conf([A, B, C], 1)
  const cases: ReadonlyArray<readonly [string, RingConfig, ReloadChangeTag]> = [
    ["a daemon added at the end", conf([A, B, C, D], 2), "Membership"],
    ["a daemon added in front (ranks shift, order kept)", conf([D, A, B, C], 2), "Membership"],
    ["a daemon removed", conf([A, B], 2), "Membership"],
    ["the same daemons under a new hash", conf([A, B, C], 2, { acceleratedRing: false }), "Membership"],
    ["only windows", conf([A, B, C], 1, { window: 100, personalWindow: 10, acceleratedWindow: 5 }), "Settings"],
    ["another daemon's address", conf([A, B, entry(13, { address: "10.9.9.9" })], 2), "Isolate"],
    ["another daemon's port", conf([A, B, entry(13, { endpoint: "4903" })], 2), "Isolate"],
    ["another daemon's name", conf([A, B, entry(13, { name: "x" })], 2), "Isolate"],
    ["another daemon's name under a new id", conf([A, B, entry(15, { name: "d13" })], 2), "Isolate"],
    ["the order of the daemons", conf([A, C, B], 2), "Isolate"],
    ["my own address", conf([entry(11, { address: "10.9.9.9" }), B, C], 2), "Fatal"],
    ["my own name", conf([entry(11, { name: "x" }), B, C], 2), "Fatal"],
    ["me removed", conf([B, C], 2), "Fatal"],
    ["MaxPacketSize", conf([A, B, C], 2, { maxPacketSize: 1400 }), "Refused"],
    ["an incoherent file", conf([A, B, C], 2, { personalWindow: 500, window: 100 }), "Refused"]
  ]
  for (const [what, next, tag] of cases) {
    it(`${what}: ${tag}`, () => {
      expect(classifyReload(current, next, A.id)._tag).toBe(tag)
    })
  }
  it("lists the daemons added and removed", () => {
    expect(classifyReload(current, conf([A, C, D], 2), A.id)).toEqual({ _tag: "Membership", added: [D.id], removed: [B.id] })
  })
})

type ReloadChangeTag = ReturnType<typeof classifyReload>["_tag"]

/** Fires zero-delay timers (self-hand-offs, a deferred reload) until there are none. */
const settle = (engine: RingEngine, first: Array<RingOutput>, now: number): Array<RingOutput> => {
  const all = [...first]
  const due: Array<{ timer: TimerName; generation: number }> = []
  const collect = (outs: Array<RingOutput>) => {
    for (const o of outs) if (o._tag === "SetTimer" && o.delay === 0) due.push({ timer: o.timer, generation: o.generation })
  }
  collect(first)
  for (let n = 0; due.length > 0 && n < 1000; n++) {
    const t = due.shift()!
    const outs = engine.step({ _tag: "TimerFired", now, timer: t.timer, generation: t.generation })
    all.push(...outs)
    collect(outs)
  }
  return all
}

const reloadTraces = (outs: ReadonlyArray<RingOutput>): Array<ReloadOutcome> =>
  outs.flatMap((o) => (o._tag === "Trace" && o.event.type === "reload" ? [o.event.outcome] : []))

describe("the engine's Reconfigure input (§9.5, §6.15)", () => {
  const boot = (config: RingConfig): { engine: RingEngine; outs: Array<RingOutput> } => {
    const engine = new RingEngine(config, A.id)
    return { engine, outs: engine.step({ _tag: "Init", now: 0, incarnation: 1, ringSeqFloor: 0, seed: 1 }) }
  }

  it("waits while not OPERATIONAL, then applies the file after the install, in a step of its own", () => {
    const { engine, outs } = boot(conf([A, B], 1))
    // Booting alone: the singleton's commit token is still going round (§6.11).
    expect(engine.state).not.toBe("OPERATIONAL")
    const next = conf([A, B, C], 2)
    const deferred = engine.step({ _tag: "Reconfigure", now: 1, config: next })
    expect(reloadTraces(deferred)).toEqual(["deferred"])
    expect(deferred.some((o) => o._tag === "Reconfigured")).toBe(false)
    expect(engine.config.configHash).toBe(1)
    // The install arms the Reload timer; its step adopts the file and starts a membership change.
    const after = settle(engine, outs, 2)
    const installAt = after.findIndex((o) => o._tag === "Install")
    const reconfiguredAt = after.findIndex((o) => o._tag === "Reconfigured")
    expect(installAt).toBeGreaterThanOrEqual(0)
    expect(reconfiguredAt).toBeGreaterThan(installAt)
    expect(reloadTraces(after)).toEqual(["membership"])
    expect(engine.config).toBe(next)
    expect(engine.configuredIds).toEqual([A.id, B.id, C.id])
    // The JOIN of the membership change goes to every configured daemon, under the new hash.
    const join = after.slice(reconfiguredAt).find((o) => o._tag === "SendMulticast" && o.bytes[3] === 0x10)
    expect(join?._tag === "SendMulticast" && join.scope).toBe("CONFIGURED")
    expect(join?._tag === "SendMulticast" && join.bytes.readUInt32LE(4)).toBe(2)
  })

  it("same daemons and hash: adopts windows and timeouts and stays OPERATIONAL", () => {
    const { engine, outs } = boot(conf([A, B], 1))
    settle(engine, outs, 1)
    expect(engine.state).toBe("OPERATIONAL")
    const next = conf([A, B], 1, { window: 100, personalWindow: 10, acceleratedWindow: 5 })
    const r = engine.step({ _tag: "Reconfigure", now: 2, config: next })
    expect(reloadTraces(r)).toEqual(["settings"])
    expect(engine.state).toBe("OPERATIONAL")
    expect(engine.config.window).toBe(100)
  })

  it("refuses what needs a restart and keeps running on the old configuration", () => {
    const { engine, outs } = boot(conf([A, B], 1))
    settle(engine, outs, 1)
    const r = engine.step({ _tag: "Reconfigure", now: 2, config: conf([A, B, C], 2, { maxPacketSize: 1400 }) })
    expect(reloadTraces(r)).toEqual(["refused"])
    expect(r.some((o) => o._tag === "Reconfigured")).toBe(false)
    expect(engine.state).toBe("OPERATIONAL")
    expect(engine.config.configHash).toBe(1)
  })

  it("another daemon's addressing changed: a singleton partition until my singleton ring is installed", () => {
    const engine = new RingEngine(conf([A, B], 1), A.id)
    engine.step({ _tag: "Init", now: 0, incarnation: 1, ringSeqFloor: 0, seed: 1, fixedRing: [{ id: A.id, incarnation: 1 }, { id: B.id, incarnation: 1 }] })
    expect(engine.ring!.members).toEqual([A.id, B.id])
    const r = engine.step({ _tag: "Reconfigure", now: 1, config: conf([A, entry(12, { endpoint: "4903" })], 2) })
    expect(reloadTraces(r)).toEqual(["isolate"])
    // B's probe of another ring (foreign evidence, §6.12) under the new hash.
    const probe = encodeProbe({ configHash: 2, senderId: B.id, senderIncarnation: 1, crc: true }, { seq: 100, rep: B.id }, [B.id])
    const packet = { _tag: "PacketReceived", now: 2, channel: "DATA", source: B.address, bytes: probe } as const
    engine.step(packet)
    expect(engine.counters.isolated).toBe(1)
    const installs = settle(engine, r, 3).filter((o) => o._tag === "Install" && o.kind === "REG")
    expect(installs.map((o) => o._tag === "Install" && o.members)).toEqual([[A.id]])
    expect(engine.state).toBe("OPERATIONAL")
    // The partition is cleared: the same evidence now starts the merge.
    engine.step({ ...packet, now: 4 })
    expect(engine.counters.isolated).toBe(1)
    expect(engine.state).not.toBe("OPERATIONAL")
  })

  it("own identity changed: a non-zero Exit with the reason", () => {
    const { engine, outs } = boot(conf([A, B], 1))
    settle(engine, outs, 1)
    const r = engine.step({ _tag: "Reconfigure", now: 2, config: conf([entry(11, { address: "10.9.9.9" }), B], 2) })
    const trace = r.find((o) => o._tag === "Trace" && o.event.type === "reload")
    expect(trace?._tag === "Trace" && trace.event.type === "reload" && trace.event.detail).toMatch(/moved from/)
    expect(r.at(-1)).toEqual({ _tag: "Exit", code: RELOAD_EXIT_CODE })
    expect(engine.state).toBe("EXITED")
  })
})

// -------------------------------------------------------------------------------------------------
// Rolling reloads in the simulator

interface Recorded {
  readonly daemon: number
  readonly outcome: ReloadOutcome
}

/** A run of {@link reloadSim}, with the reload traces and exits recorded. */
const reloadRun = (seed: number, kind: ReloadKind) => {
  const traces: Array<Recorded> = []
  const exits: Array<{ daemon: number; code: number }> = []
  const sim = reloadSim(seed, kind, (o) => ({
    ...o,
    mutateOutputs: (d, outs) => {
      for (const o of outs) {
        if (o._tag === "Trace" && o.event.type === "reload") traces.push({ daemon: d, outcome: o.event.outcome })
        if (o._tag === "Exit") exits.push({ daemon: d, code: o.code })
      }
      return outs
    }
  })).run()
  expect(checkEvs(sim, 5)).toEqual([])
  return { sim, traces, exits }
}

/** The members of the last regular configuration of each live daemon, sorted. */
const finalRings = (sim: Sim): Array<ReadonlyArray<number>> => [...sim.procs.values()].map((p) => [...p.engine.ring!.members].sort())

const logOf = (sim: Sim, id: number) => sim.logs.get([...sim.logs.keys()].find((k) => Sim.parse(k).id === id)!)!

const seeds = [1, 2, 3, 4, 5, 6]

describe("rolling reloads in simulation (§9.5); EVS holds", () => {
  it("a daemon added: it starts on the new file, the others reload one after another; one ring of four", () => {
    for (const seed of seeds) {
      const { sim, traces } = reloadRun(seed, "add")
      expect(traces.filter((t) => t.outcome === "membership").map((t) => t.daemon).sort()).toEqual(sim.ids.slice(0, 3).sort())
      expect(finalRings(sim)).toEqual(sim.ids.map(() => [...sim.ids].sort()))
    }
  })

  it("a daemon removed: the others fail it at once; it exits when it reloads the file without itself", () => {
    for (const seed of seeds) {
      const { sim, traces, exits } = reloadRun(seed, "remove")
      // Failed at once, not after a Consensus timeout without its joins (§6.4).
      const first = logOf(sim, sim.ids[0]!).find((e) => e.type === "install" && e.t >= RELOADS_FROM && e.configId.kind === "REG")
      expect(first?.t).toBeLessThan(RELOADS_FROM + sim.config.timeouts.consensus)
      const d = sim.ids[3]!
      expect(exits).toEqual([{ daemon: d, code: RELOAD_EXIT_CODE }])
      // Cut off from the others (their hash changed), d may be in a membership change: it waits (§9.5).
      const outcomes = traces.filter((t) => t.daemon === d).map((t) => t.outcome)
      expect(outcomes.at(-1)).toBe("fatal")
      expect(outcomes.slice(0, -1).every((o) => o === "deferred")).toBe(true)
      expect(finalRings(sim)).toEqual([0, 1, 2].map(() => sim.ids.slice(0, 3).sort()))
    }
  })

  it("another daemon's addressing changed: each reloading daemon isolates (a singleton), then they merge again", () => {
    for (const seed of seeds) {
      const { sim, traces } = reloadRun(seed, "isolate")
      const three = sim.ids.slice(0, 3)
      expect(traces.filter((t) => t.outcome === "isolate").map((t) => t.daemon).sort()).toEqual([...three].sort())
      // Each installed a ring of itself alone after its reload (§9.5 "installs a singleton ring").
      for (const id of three) {
        const singles = logOf(sim, id).filter((e) => e.type === "install" && e.t >= RELOADS_FROM && e.configId.kind === "REG" && e.members.length === 1)
        expect(singles.length).toBeGreaterThanOrEqual(1)
      }
      expect(finalRings(sim)).toEqual(sim.ids.map(() => [...sim.ids].sort()))
    }
  })

  it("own identity changed: that daemon leaves and exits; the others go on", () => {
    for (const seed of seeds) {
      const { sim, exits } = reloadRun(seed, "fatal")
      expect(exits).toEqual([{ daemon: sim.ids[1]!, code: RELOAD_EXIT_CODE }])
      const rest = sim.ids.filter((id) => id !== sim.ids[1]).sort()
      expect(finalRings(sim)).toEqual(rest.map(() => rest))
    }
  })
})
