/**
 * Unit tests of the engine's parts: packing and fragmentation (§4.3), reassembly (§5.8),
 * configuration checks (§9.4, R5), the token visit on a hand-driven ring (§5.3, §5.4, §5.12).
 */
import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import { decodeRingPacket, encodeDataPacket, encodeLeave, type Token } from "../../src/Protocol/Ring/index.js"
import { Reassembly } from "../../src/Membership/Ring/Reassembly.js"
import { checkRingConfig, makeRingConfig, maxFragmentLength } from "../../src/Membership/Ring/RingConfig.js"
import { RingEngine } from "../../src/Membership/Ring/RingEngine.js"
import { LONE_FRAGMENT_LENGTH, SendQueue } from "../../src/Membership/Ring/SendQueue.js"
import type { RingOutput } from "../../src/Membership/Ring/Types.js"

const ROOM = 1472 - 24 - 40
const FRAG = 1392

/**
 * Queues `msgs`, sequences every packet (`lone(seq)`: the ring has one member when packet `seq`
 * is built), encodes and decodes each one (the decoder checks the packing rules 2 and 3), checks
 * its size, and reassembles. Returns what was sent and what reassembly gave back.
 */
const roundTrip = (
  msgs: ReadonlyArray<{ readonly size: number; readonly cls: 1 | 2 | 3 }>,
  lone: (seq: number) => boolean,
  maxDatagram: number
) => {
  const q = new SendQueue(FRAG, ROOM)
  const sent = msgs.map((m, i) => {
    const b = Buffer.alloc(m.size, i & 0xff)
    q.push(i + 1, b, m.cls)
    return b
  })
  const reasm = new Reassembly(1000)
  const got: Array<Buffer> = []
  let seq = 0
  for (let p = q.nextPacket(lone(seq)); p !== undefined; p = q.nextPacket(lone(seq))) {
    const bytes = encodeDataPacket({ configHash: 1, senderId: 1, senderIncarnation: 1, crc: true }, {
      ringId: { seq: 2, rep: 1 }, seq: ++seq, originatorId: 1, originatorIncarnation: 1, hop: 1, cls: p.cls, chunks: p.chunks
    })
    expect(bytes.length).toBeLessThanOrEqual(maxDatagram)
    // A fragment is never longer than the cut of the ring it was first sequenced on.
    for (const c of p.chunks) expect(c.data.length).toBeLessThanOrEqual(LONE_FRAGMENT_LENGTH)
    expect(decodeRingPacket(bytes).ok).toBe(true)
    for (const c of p.chunks) {
      const x = reasm.add(1, c)
      expect(x._tag).not.toBe("violation")
      if (x._tag === "complete") got.push(x.envelope)
    }
  }
  return { q, sent, got }
}

const cls = fc.constantFrom(1 as const, 2 as const, 3 as const)

describe("packing and fragmentation (§4.3)", () => {
  it("every packet obeys the packing rules, fits MaxPacketSize, and reassembly restores each message in order", () => {
    const msg = fc.record({ size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1000, max: 9000 })), cls })
    fc.assert(fc.property(fc.array(msg, { minLength: 1, maxLength: 60 }), (msgs) => {
      const { q, sent, got } = roundTrip(msgs, () => false, 1472)
      expect(q.length).toBe(0)
      expect(got).toEqual(sent)
    }))
  })

  it("packs many small messages into one packet and starts a new packet for one that does not fit", () => {
    const q = new SendQueue(FRAG, ROOM)
    for (let i = 0; i < 20; i++) q.push(i + 1, Buffer.alloc(100), 2)
    const p1 = q.nextPacket()!
    expect(p1.chunks.length).toBe(Math.floor(ROOM / 116))
    expect(q.nextPacket()!.chunks.length).toBe(20 - p1.chunks.length)
  })

  it("never mixes classes in a packet (rule 1) and bounds a packet at 255 chunks", () => {
    const q = new SendQueue(FRAG, 65_000)
    q.push(1, Buffer.alloc(1), 1)
    q.push(2, Buffer.alloc(1), 2)
    expect(q.nextPacket()!.chunks.length).toBe(1)
    for (let i = 0; i < 300; i++) q.push(10 + i, Buffer.alloc(0), 2)
    expect(q.nextPacket()!.chunks.length).toBe(255)
  })

  it("restarts a partly sequenced message from fragment 0 (§6.8 step 5)", () => {
    const q = new SendQueue(FRAG, ROOM)
    q.push(1, Buffer.alloc(5000), 2)
    expect(q.nextPacket()!.chunks[0]!.fragIndex).toBe(0)
    expect(q.nextPacket()!.chunks[0]!.fragIndex).toBe(1)
    q.restartPartial()
    expect(q.nextPacket()!.chunks[0]!.fragIndex).toBe(0)
    expect(q.backlogPackets()).toBeGreaterThanOrEqual(3)
  })

  it("on a ring of one, a message is cut at LONE_FRAGMENT_LENGTH; the ring size may change between packets, and every packet is one valid datagram", () => {
    const msg = fc.record({ size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1000, max: 150_000 })), cls })
    fc.assert(fc.property(fc.array(msg, { minLength: 1, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 1 }), (msgs, loneFlags) => {
      const { sent, got } = roundTrip(msgs, (seq) => loneFlags[seq % loneFlags.length]!, 65_507)
      expect(got).toEqual(sent)
    }), { numRuns: 100 })
  })

  it("on a ring of one, a 10 KB message is one whole chunk, so reassembly hands back the sender's bytes without a copy", () => {
    const q = new SendQueue(FRAG, ROOM)
    const m = Buffer.alloc(10_000, 7)
    q.push(1, m, 2)
    const p = q.nextPacket(true)!
    expect(p.chunks.map((c) => [c.fragIndex, c.fragCount])).toEqual([[0, 1]])
    const x = new Reassembly(10).add(1, p.chunks[0]!)
    expect(x._tag === "complete" && x.envelope.buffer === m.buffer).toBe(true)
  })

  it("a partly sent lone message is cut again for the new ring when it restarts (§6.8 step 5)", () => {
    const q = new SendQueue(FRAG, ROOM)
    q.push(1, Buffer.alloc(100_000), 2)
    expect(q.nextPacket(true)!.chunks[0]!.fragCount).toBe(2)
    q.restartPartial()
    const p = q.nextPacket(false)!
    expect([p.chunks[0]!.fragIndex, p.chunks[0]!.fragCount]).toEqual([0, Math.ceil(100_000 / FRAG)])
  })

  it("a stand-in envelope is encoded once, when the message is first cut for a ring of several, never on a ring of one", () => {
    const q = new SendQueue(FRAG, ROOM)
    const real = Buffer.alloc(3_000, 9)
    let encoded = 0
    const encode = () => (encoded++, real)
    q.push(1, Buffer.alloc(3_000), 2, encode)
    q.push(2, Buffer.alloc(3_000), 2, encode)
    // Lone: the stand-in's zeros go into the packet, nothing is encoded.
    expect(q.nextPacket(true)!.chunks[0]!.data.every((b) => b === 0)).toBe(true)
    expect(encoded).toBe(0)
    // A ring of several: the real bytes, encoded once for all its fragments.
    const fragments = [q.nextPacket(false)!, q.nextPacket(false)!, q.nextPacket(false)!]
    expect(Buffer.concat(fragments.map((p) => p.chunks[0]!.data))).toEqual(real)
    expect(encoded).toBe(1)
  })

  it("a lone message cut with its stand-in gets its real bytes when it restarts in a larger ring (§6.8 step 5)", () => {
    const q = new SendQueue(FRAG, ROOM)
    const real = Buffer.alloc(100_000, 5)
    q.push(1, Buffer.alloc(100_000), 2, () => real)
    q.nextPacket(true)
    q.restartPartial()
    expect(q.nextPacket(false)!.chunks[0]!.data).toEqual(real.subarray(0, FRAG))
  })
})

describe("reassembly (§5.8)", () => {
  it("drops a partial message whose next fragment does not continue it", () => {
    const r = new Reassembly(10)
    const d = Buffer.alloc(1)
    expect(r.add(7, { msgSerial: 1, fragIndex: 0, fragCount: 3, data: d })._tag).toBe("partial")
    expect(r.add(7, { msgSerial: 1, fragIndex: 2, fragCount: 3, data: d })._tag).toBe("violation")
    expect(r.size).toBe(0)
    expect(r.add(7, { msgSerial: 2, fragIndex: 0, fragCount: 11, data: d })._tag).toBe("violation")
  })
})

describe("configuration checks (§9.4, §5.9, §5.10, R5)", () => {
  const daemons = [{ id: 1, address: "10.0.0.1" }, { id: 2, address: "10.0.0.2" }]
  it("accepts the defaults and refuses incoherent values", () => {
    expect(checkRingConfig(makeRingConfig(daemons))).toEqual([])
    expect(maxFragmentLength(makeRingConfig(daemons))).toBe(1392)
    expect(checkRingConfig(makeRingConfig(daemons, { personalWindow: 200 })).length).toBe(1)
    expect(checkRingConfig(makeRingConfig(daemons, { acceleratedWindow: 30 })).length).toBe(1)
    expect(checkRingConfig(makeRingConfig(daemons, { timeouts: { tokenRetransmit: 400 } })).length).toBe(1)
    expect(checkRingConfig(makeRingConfig([...daemons, { id: 1, address: "x" }])).some((e) => e.includes("duplicate"))).toBe(true)
  })
  it("R5: refuses a window/gap combination whose worst-case commit token exceeds 65 507 bytes", () => {
    const many = Array.from({ length: 128 }, (_, i) => ({ id: i + 1, address: `10.0.1.${i}` }))
    expect(checkRingConfig(makeRingConfig(many))).toEqual([])
    expect(checkRingConfig(makeRingConfig(many, { maxSeqGap: 4000, window: 400, personalWindow: 20 })).some((e) => e.includes("§4.8.1"))).toBe(true)
  })
})

/** A hand-driven ring of engines with instant, lossless delivery (no timers): for step-level checks. */
const handRing = (n: number) => {
  const ids = Array.from({ length: n }, (_, i) => i + 1)
  const config = makeRingConfig(ids.map((id) => ({ id, address: `10.0.0.${id}` })), { acceleratedRing: false })
  const engines = new Map(ids.map((id) => [id, new RingEngine(config, id)]))
  const tokens: Array<{ from: number; to: number; token: Token }> = []
  const pending: Array<{ from: number; to: number; bytes: Buffer }> = []
  const delivered = new Map<number, Array<string>>(ids.map((id) => [id, []]))
  const route = (from: number, outs: Array<RingOutput>) => {
    for (const o of outs) {
      if (o._tag === "SendUnicast") pending.push({ from, to: o.to, bytes: o.bytes })
      if (o._tag === "SendMulticast") for (const to of ids) if (to !== from) pending.push({ from, to, bytes: o.bytes })
      if (o._tag === "Deliver") delivered.get(from)!.push(o.envelope.toString())
      if (o._tag === "Install") route(from, engines.get(from)!.step({ _tag: "SetDeliveryGate", now: 0, gate: "OPEN" }))
    }
  }
  for (const [id, e] of engines) route(id, e.step({ _tag: "Init", now: 0, incarnation: 1, ringSeqFloor: 0, seed: id, fixedRing: ids.map((i) => ({ id: i, incarnation: 1 })) }))
  /** Delivers pending datagrams; `drop` decides losses. Returns after the token passed `hops` times. */
  const run = (hops: number, drop: (from: number, to: number, bytes: Buffer) => boolean = () => false) => {
    let seen = 0
    while (pending.length > 0 && seen < hops) {
      const m = pending.shift()!
      if (drop(m.from, m.to, m.bytes)) continue
      const r = decodeRingPacket(m.bytes)
      if (r.ok && r.body._tag === "TOKEN") {
        tokens.push({ from: m.from, to: m.to, token: r.body.token })
        seen++
      }
      route(m.to, engines.get(m.to)!.step({ _tag: "PacketReceived", now: 0, channel: "DATA", source: `10.0.0.${m.from}`, bytes: m.bytes }))
    }
  }
  const submit = (id: number, text: string, cls: "RELIABLE" | "ORDERED" | "SAFE" = "ORDERED") =>
    route(id, engines.get(id)!.step({ _tag: "Submit", now: 0, envelope: Buffer.from(text), deliveryClass: cls }))
  return { ids, engines, tokens, delivered, run, submit }
}

describe("the token visit on a hand-driven ring (§5.3–§5.5, §5.14)", () => {
  it("worked example §5.14: a lost packet lowers aru, is retransmitted by the successor, and the safe point follows", () => {
    const r = handRing(3)
    const [A, B, C] = r.ids as [number, number, number]
    r.run(3 * 4) // idle rotations; the leader A ends up holding the token (§5.12)
    const big = (t: string) => t.padEnd(1000, ".")
    r.submit(A, big("a1"), "SAFE") // releases the held token as it is: A sends at its next visit
    r.submit(A, big("a2"), "SAFE")
    r.submit(C, big("c1"), "SAFE")
    let dropped = 0
    // B loses the second packet A sends.
    r.run(1000, (from, to, bytes) => {
      const d = decodeRingPacket(bytes)
      if (dropped === 0 && from === A && to === B && d.ok && d.body._tag === "DATA" && d.body.data.chunks[0]!.data.toString().startsWith("a2")) {
        dropped = d.body.data.seq
        return true
      }
      return false
    })
    expect(dropped).toBe(3)
    const fromB = r.tokens.find((t) => t.from === B && t.token.rtr.length > 0)!
    expect(fromB.token.aruId).toBe(B)
    expect(fromB.token.aru).toBe(2)
    expect(fromB.token.rtr[0]).toMatchObject({ requesterId: B, firstSeq: 3, count: 1, attempts: 1, hintDistance: 1 })
    // C is at distance 1 after B and holds seq 3: it answers by unicast (one asker).
    expect(r.engines.get(C)!.counters.retransmissionsUnicast).toBe(1)
    for (const id of r.ids) expect(r.delivered.get(id)!.map((x) => x.slice(0, 2))).toEqual(["c1", "a1", "a2"])
    for (const id of r.ids) expect(r.engines.get(id)!.ring!.stableAru).toBe(3)
  })

  it("the aru rule (§5.4): only the member that lowered aru raises it", () => {
    const r = handRing(4)
    r.run(4 * 3)
    r.submit(1, "x")
    r.run(200, (from, to, bytes) => from === 1 && to === 3 && bytes[3] === 0x01 && (bytes.readUInt16LE(16) & 2) === 0)
    const lowered = r.tokens.filter((t) => t.token.aruId === 3)
    expect(lowered.length).toBeGreaterThan(0)
    for (const t of r.tokens) if (t.token.aruId !== 0 && t.token.aru < t.token.seq) expect(t.token.aruId).toBe(3)
    for (const id of r.ids) expect(r.delivered.get(id)).toEqual(["x"])
  })

  it("an idle ring's leader holds the token after IdleRotationsBeforeHold idle rotations (§5.12)", () => {
    const r = handRing(3)
    r.run(100)
    const leader = r.engines.get(1)!
    expect(leader.ring!.holding).toBe(true)
    expect(r.tokens.length).toBeLessThan(20)
    // A submit at a non-leader makes it send TOKEN_REQUEST; the leader releases at once.
    r.submit(2, "wake")
    r.run(30)
    expect(leader.counters.tokenHolds).toBeGreaterThanOrEqual(1)
    for (const id of r.ids) expect(r.delivered.get(id)).toEqual(["wake"])
  })
})

describe("packet acceptance (§4.1, §11.4, §11.6)", () => {
  const ids = [1, 2, 3]
  const config = makeRingConfig(ids.map((id) => ({ id, address: `10.0.0.${id}` })))
  const boot = () => {
    const e = new RingEngine(config, 1)
    e.step({ _tag: "Init", now: 0, incarnation: 5, ringSeqFloor: 0, seed: 1, fixedRing: ids.map((id) => ({ id, incarnation: 1 })) })
    return e
  }
  const leave = (sender: number, inc: number, hash = config.configHash) =>
    encodeLeaveFor(hash, sender, inc)

  it("drops wrong hash (and answers CONFIG_MISMATCH at most once per 10 s), wrong source, own and stale packets", () => {
    const e = boot()
    const outs = e.step({ _tag: "PacketReceived", now: 1, channel: "DATA", source: "10.0.0.2", bytes: leave(2, 1, 0xbad) })
    expect(e.counters.wrongConfig).toBe(1)
    expect(outs.filter((o) => o._tag === "SendUnicast" && o.to === 2 && o.bytes[3] === 0x14).length).toBe(1)
    expect(outs.filter((o) => o._tag === "Trace" && o.event.type === "configMismatch").length).toBe(1)
    expect(e.step({ _tag: "PacketReceived", now: 2, channel: "DATA", source: "10.0.0.2", bytes: leave(2, 1, 0xbad) }).length).toBe(0)
    const later = e.step({ _tag: "PacketReceived", now: 10_002, channel: "DATA", source: "10.0.0.2", bytes: leave(2, 1, 0xbad) })
    expect(later.map((o) => o._tag)).toEqual(["Trace", "SendUnicast"])
    e.step({ _tag: "PacketReceived", now: 3, channel: "DATA", source: "10.0.0.9", bytes: leave(2, 1) })
    expect(e.counters.wrongSource).toBe(1)
    e.step({ _tag: "PacketReceived", now: 3, channel: "DATA", source: "10.0.0.1", bytes: leave(1, 5) })
    expect(e.counters.ownPacket).toBe(1)
    e.step({ _tag: "PacketReceived", now: 3, channel: "DATA", source: "10.0.0.3", bytes: Buffer.from([1, 2, 3]) })
    expect(e.counters.malformed).toBe(1)
    expect(e.state).toBe("OPERATIONAL")
  })

  it("a newer incarnation of a ring member starts a membership change (§11.4); older ones are then stale", () => {
    const e = boot()
    // A LEAVE for another ring: only the incarnation matters here.
    e.step({ _tag: "PacketReceived", now: 1, channel: "DATA", source: "10.0.0.2", bytes: encodeLeaveFor(config.configHash, 2, 2, { seq: 99, rep: 2 }) })
    expect(e.state).toBe("GATHER")
    e.step({ _tag: "PacketReceived", now: 2, channel: "DATA", source: "10.0.0.2", bytes: leave(2, 1) })
    expect(e.counters.staleIncarnation).toBe(1)
  })
})

const encodeLeaveFor = (configHash: number, senderId: number, senderIncarnation: number, ringId = { seq: 2, rep: 1 }): Buffer =>
  encodeLeave({ configHash, senderId, senderIncarnation, crc: true }, ringId)
