/**
 * Engine-only throughput of a ring (daemon-protocol §5): N engines wired by an in-memory FIFO
 * network with no loss and no delay, send queues kept full, messages of a fixed size.
 * Measures messages delivered per second (per daemon) in wall-clock time, i.e. the CPU cost of
 * the engines' own work: encoding, CRC, decoding, ordering, delivery. No sockets, no Effect.
 *
 * Run: `npm run bench` (after the client floods), or `npm run build && node bench/ring-engine.ts`.
 */
import { makeRingConfig } from "../dist/Membership/Ring/RingConfig.js"
import { RingEngine } from "../dist/Membership/Ring/RingEngine.js"
import type { RingOutput } from "../dist/Membership/Ring/Types.js"

interface Result {
  readonly daemons: number
  readonly payload: number
  readonly crc: boolean
  readonly acceleratedRing: boolean
  readonly msgsPerSec: number
  readonly mbPerSec: number
  readonly packetsPerSec: number
}

const run = (daemons: number, payload: number, crc: boolean, acceleratedRing: boolean, seconds: number): Result => {
  const ids = Array.from({ length: daemons }, (_, i) => i + 1)
  const config = makeRingConfig(ids.map((id) => ({ id, address: `10.0.0.${id}` })), { crc, acceleratedRing })
  const engines = new Map(ids.map((id) => [id, new RingEngine(config, id, { traceSends: false })]))
  const queue: Array<{ to: number; from: number; bytes: Buffer }> = []
  let delivered = 0
  let packets = 0
  const apply = (from: number, outs: Array<RingOutput>) => {
    for (const o of outs) {
      if (o._tag === "SendUnicast") queue.push({ to: o.to, from, bytes: o.bytes })
      else if (o._tag === "SendMulticast") {
        packets++
        for (const to of ids) if (to !== from) queue.push({ to, from, bytes: o.bytes })
      } else if (o._tag === "Deliver" && from === 1) delivered++
      else if (o._tag === "Install") apply(from, engines.get(from)!.step({ _tag: "SetDeliveryGate", now: 0, gate: "OPEN" }))
    }
  }
  const envelope = Buffer.alloc(payload, 7)
  const topUp = () => {
    for (const [id, e] of engines) {
      while (e.sendQueue.length < 1000) apply(id, e.step({ _tag: "Submit", now: 0, envelope, deliveryClass: "ORDERED" }))
    }
  }
  topUp()
  for (const [id, e] of engines) apply(id, e.step({ _tag: "Init", now: 0, incarnation: 1, ringSeqFloor: 0, seed: id, fixedRing: ids.map((i) => ({ id: i, incarnation: 1 })) }))
  const t0 = performance.now()
  const deadline = t0 + seconds * 1000
  let head = 0
  let steps = 0
  while (head < queue.length) {
    const m = queue[head++]!
    apply(m.to, engines.get(m.to)!.step({ _tag: "PacketReceived", now: 0, channel: "DATA", source: `10.0.0.${m.from}`, bytes: m.bytes }))
    if (head > 100_000) {
      queue.splice(0, head)
      head = 0
    }
    if (++steps % 256 === 0) {
      topUp()
      if (performance.now() > deadline) break
    }
  }
  const secs = (performance.now() - t0) / 1000
  return {
    daemons, payload, crc, acceleratedRing,
    msgsPerSec: Math.round(delivered / secs),
    mbPerSec: Math.round(delivered * payload / secs / 1e5) / 10,
    packetsPerSec: Math.round(packets / secs)
  }
}

const seconds = Number(process.env.SECONDS ?? 3)
for (const payload of [100, 1000]) {
  for (const crc of [true, false]) {
    console.log(JSON.stringify(run(3, payload, crc, true, seconds)))
  }
}
console.log(JSON.stringify(run(3, 100, true, false, seconds)))
console.log(JSON.stringify(run(9, 100, true, true, seconds)))
