/**
 * A DaemonCore of one daemon driven without sockets or real time (sans-IO tests): a recording
 * sink, and `settle()`, which fires the ring's zero-delay timers (a ring of one hands its token
 * to itself through them, daemon-protocol §6.11.1) until the core is quiet.
 */
import { type CoreSink, DaemonCore } from "../../src/Membership/DaemonCore.ts"
import { makeRingConfig } from "../../src/Membership/Ring/RingConfig.ts"
import type { TimerName } from "../../src/Membership/Ring/Types.ts"

export const NODE1_ID = 0x1d5c9b95

export interface CoreHarness {
  readonly core: DaemonCore
  /** Fires due zero-delay timers until none is left; the driver's job between socket reads. */
  readonly settle: () => void
}

export const coreOfOne = (sink: Pick<CoreSink, "deliver" | "close">, name = "node1", id = NODE1_ID): CoreHarness => {
  const due = new Map<TimerName, number>()
  const core = new DaemonCore(
    { daemonName: name, daemonId: id, ring: makeRingConfig([{ id, address: "127.0.0.1" }]), incarnation: 1, ringSeqFloor: 1000, seed: 7, now: 0 },
    {
      ...sink,
      pauseClientReads: () => {},
      perform: (o) => {
        if (o._tag === "SetTimer") {
          if (o.delay === 0) due.set(o.timer, o.generation)
          else due.delete(o.timer)
        } else if (o._tag === "CancelTimer") due.delete(o.timer)
      },
      event: () => {}
    }
  )
  const settle = (): void => {
    for (let rounds = 0; due.size > 0; rounds++) {
      if (rounds > 100_000) throw new Error("the core does not settle")
      const [timer, generation] = due.entries().next().value!
      due.delete(timer)
      core.timer(0, timer, generation)
    }
  }
  core.start()
  settle()
  return { core, settle }
}
