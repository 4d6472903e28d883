/**
 * Loopback-only helpers for the UDP transport tests: free port pairs on 127.0.0.x, a
 * configuration model of daemons on 127.0.0.1/2/3, and a collector of received batches.
 */
import * as Effect from "effect/Effect"
import { createSocket, type Socket } from "node:dgram"
import type { DaemonEntry, Segment } from "../../src/Config/Model.ts"
import type { UdpDatagram, UdpTransportOptions, UdpTransportShape } from "../../src/Daemon/UdpTransport.ts"

const bindUdp = (address: string, port: number): Promise<Socket | undefined> =>
  new Promise((resolve) => {
    const socket = createSocket("udp4")
    socket.once("error", () => {
      try {
        socket.close()
      } catch {
        // Never bound.
      }
      resolve(undefined)
    })
    socket.bind({ address, port }, () => resolve(socket))
  })

const close = (socket: Socket): Promise<void> => new Promise((resolve) => socket.close(() => resolve()))

/** True when `address:port` can be bound (UDP) right now. */
export const canBind = async (address: string, port: number): Promise<boolean> => {
  const socket = await bindUdp(address, port)
  if (socket === undefined) return false
  await close(socket)
  return true
}

/** A port P such that P and P + 1 were free (UDP) on every given 127.0.0.x address a moment ago. */
export const freePortPair = async (addresses: ReadonlyArray<string>): Promise<number> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const probe = await bindUdp("127.0.0.1", 0)
    if (probe === undefined) continue
    const port = probe.address().port
    await close(probe)
    if (port >= 65_534) continue
    const held: Array<Socket> = []
    let ok = true
    for (const address of addresses) {
      for (const p of [port, port + 1]) {
        const s = await bindUdp(address, p)
        if (s === undefined) ok = false
        else held.push(s)
      }
    }
    await Promise.all(held.map(close))
    if (ok) return port
  }
  throw new Error("no free UDP port pair on loopback")
}

export const daemon = (name: string, id: number, rank: number, address: string, port: number, segment = 0): DaemonEntry => ({
  name,
  address,
  id,
  virtualId: id,
  rank,
  segment,
  port,
  interfaces: []
})

/** Daemons on 127.0.0.1, 127.0.0.2, … in one segment of the given kind and address. */
export const loopbackConfig = (options: {
  readonly port: number
  readonly count: number
  readonly kind?: Segment["kind"]
  readonly segmentAddress?: string
}): { readonly daemons: ReadonlyArray<DaemonEntry>; readonly segments: ReadonlyArray<Segment> } => {
  const daemons = Array.from({ length: options.count }, (_, i) => daemon(`d${i + 1}`, 100 + i + 1, i, `127.0.0.${i + 1}`, options.port))
  const segments: ReadonlyArray<Segment> = [{
    addresses: [options.segmentAddress ?? "127.0.0.255"],
    port: options.port,
    kind: options.kind ?? "unicast-only",
    daemons
  }]
  return { daemons, segments }
}

export const optionsFor = (
  config: { readonly daemons: ReadonlyArray<DaemonEntry>; readonly segments: ReadonlyArray<Segment> },
  index: number,
  transport: "multicast" | "unicast" = "unicast"
): UdpTransportOptions => ({
  me: config.daemons[index]!,
  daemons: config.daemons,
  segments: config.segments,
  transport,
  ipVersion: "IPv4"
})

/** Records every batch a transport hands over. */
export interface Collector {
  readonly batches: Array<ReadonlyArray<UdpDatagram>>
  readonly all: () => ReadonlyArray<UdpDatagram>
}

export const collect = (udp: UdpTransportShape): Collector => {
  const batches: Array<ReadonlyArray<UdpDatagram>> = []
  udp.onDatagrams((batch) => batches.push(batch))
  return { batches, all: () => batches.flat() }
}

/** Waits (live clock) until `done()` holds, or fails after `ms`. */
export const waitUntil = (done: () => boolean, ms = 2_000): Effect.Effect<void, Error> =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    while (!done()) {
      if (Date.now() > deadline) return yield* Effect.fail(new Error("timed out waiting"))
      yield* Effect.sleep("5 millis")
    }
  })

/** Lets a few event-loop turns pass (for "nothing arrives" checks). */
export const settle = (ms = 100): Effect.Effect<void> => Effect.sleep(`${ms} millis`)
