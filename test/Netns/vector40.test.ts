/**
 * Interop on two hosts (issue 5): vector 40 (test/fixtures/40-two-daemon-partition-merge.json),
 * captured from two Spread 5.0.1 daemons in two namespaces, replayed against two of ours the same
 * way: alice and carol on node1, bob on node2, all in "chat"; node2 frozen with SIGSTOP (node1
 * goes on alone: TRANSITION_MESS, then a network view), an AGREED message during the partition,
 * SIGCONT and the merge (a network view with two vs_sets), a message after the merge, and the
 * disconnects. Every byte must match outside the vector's documented varying fields (group ids,
 * compared by label). The clients use each daemon's Unix socket (the vector used TCP; the bytes
 * are the same on both).
 *
 * One documented difference: when node2 wakes, it reads node1's joins of the partition (they
 * list node2 as failed), so by daemon-protocol §6.4 J4 it excludes node1 and installs a ring of
 * its own before the merge: after the transitional signal, bob sees a network view of his own
 * side (`chat` with bob alone) before the merged view that Spread's bob went to directly. Both are
 * EVS-correct; ours shows one more step.
 */
import { afterAll, beforeAll, describe, it } from "vitest"
import { decodeDaemonMessage } from "../../src/Protocol/index.ts"
import { loadFixture } from "../Protocol/vectors.ts"
import { createNetwork, type NetnsDaemon, netnsAvailable, type Network, spreadConf } from "../support/netns.ts"
import { RawClient } from "../support/rawClient.ts"
import { replay } from "../support/replay.ts"
import { ringOf } from "./support.ts"

const available = netnsAvailable()
const FIXTURE = "40-two-daemon-partition-merge.json"

describe.skipIf(!available.ok)(`vector 40 on two hosts${available.ok ? "" : ` (skipped: ${available.reason})`}`, () => {
  let net: Network
  const daemons = new Map<string, NetnsDaemon>()

  beforeAll(async () => {
    net = createNetwork({ hosts: 2 })
    const conf = spreadConf(net, { names: ["node1", "node2"] })
    for (const [i, name] of ["node1", "node2"].entries()) daemons.set(name, await net.startDaemon(i, { configText: conf, name }))
    await Promise.all([...daemons.values()].map((d) => d.waitForOutput(ringOf(["node1", "node2"]), 20_000)))
  }, 60_000)

  afterAll(async () => {
    await net?.destroy()
  }, 30_000)

  it("our two daemons send what Spread's sent, byte for byte outside the varying fields", async () => {
    const fixture = loadFixture(FIXTURE)
    const connections = fixture.connections as Record<string, { readonly daemon: string }>
    await replay(fixture, {
      connect: (conn) => RawClient.connect({ path: daemons.get(connections[conn]!.daemon)!.unixPath }),
      control: (event, daemon) => {
        if (event === "sigstop") daemons.get(daemon)!.kill("SIGSTOP")
        else if (event === "sigcont") daemons.get(daemon)!.kill("SIGCONT")
        else throw new Error(`unknown control event ${event}`)
      },
      // A partition and a merge take a few seconds with the default timeouts.
      timeoutMs: 15_000,
      extra: (conn, actual) => {
        if (conn !== "bob") return false
        const m = decodeDaemonMessage(actual, "#bob#node2")
        return m._tag === "Membership" && m.cause === "network" && m.members.join() === "#bob#node2"
      }
    })
  }, 90_000)
})
