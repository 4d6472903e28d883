/**
 * Every mapping of daemon-protocol §9.2 on real hosts (issue 5): besides the broadcast segment
 * of `ring.test.ts` and the IPv6 group of `ipv6.test.ts`, an IPv4 multicast group, unicast
 * fan-out (`Transport = unicast`), and two segments (one datagram to my segment's broadcast
 * address, a unicast to the daemon of the other). In each, three daemons form one ring and
 * clients on the first and the last host see one order.
 */
import { afterEach, describe, expect, it } from "vitest"
import { createNetwork, type NetnsDaemon, type Network, netnsAvailable, spreadConf } from "../support/netns.ts"
import { connectTo, exchangeAgreed, type RecordingClient, ringOf, tearDown } from "./support.ts"

const available = netnsAvailable()
const NAMES = ["n1", "n2", "n3"]

/** n1 and n2 on the broadcast segment at port 4803; n3 alone on a second segment at 4805. */
const twoSegments = (net: Network): string => {
  const [h1, h2, h3] = net.hosts
  return [
    `Spread_Segment ${net.broadcast}:4803 {`,
    `    n1 ${h1!.address}`,
    `    n2 ${h2!.address}`,
    "}",
    `Spread_Segment ${net.broadcast}:4805 {`,
    `    n3 ${h3!.address}`,
    "}",
    ""
  ].join("\n")
}

const VARIANTS: ReadonlyArray<readonly [string, (net: Network) => string]> = [
  ["an IPv4 multicast group", (net) => spreadConf(net, { segmentAddress: "239.192.48.3" })],
  ["unicast fan-out (Transport = unicast)", (net) => spreadConf(net, { extra: "Transport = unicast" })],
  ["two segments", twoSegments]
]

describe.skipIf(!available.ok)(`the ring over each UDP mapping${available.ok ? "" : ` (skipped: ${available.reason})`}`, () => {
  let net: Network | undefined
  const clients: Array<RecordingClient> = []

  afterEach(async () => {
    await tearDown(clients, net)
    clients.length = 0
    net = undefined
  }, 30_000)

  it.each(VARIANTS)("%s: one ring of three, one order at clients on two hosts", async (_, configure) => {
    const network = createNetwork({ hosts: 3 })
    net = network
    const conf = configure(network)
    const daemons: Array<NetnsDaemon> = await Promise.all(NAMES.map((name, i) => network.startDaemon(i, { configText: conf, name })))
    await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(NAMES), 20_000)))
    clients.push(await connectTo(daemons[0]!, "first"), await connectTo(daemons[2]!, "last"))
    const [first, last] = await exchangeAgreed(clients, "map", 5)
    expect(first).toHaveLength(10)
    expect(last).toEqual(first)
  }, 60_000)
})
