/**
 * The UDP transport on loopback only: daemons configured as 127.0.0.1/2/3 (Linux routes all of
 * 127/8 to lo), ports from a free-port helper.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import { createSocket } from "node:dgram"
import type { Segment } from "../../src/Config/Model.ts"
import { buildRoutes, defaultBindAddress, multicastSendInterface, scopedToInterface } from "../../src/Daemon/UdpRoutes.ts"
import { readFileSync } from "node:fs"
import { DEFAULT_LIMITS, DEFAULT_WINDOWS } from "../../src/Config/Defaults.ts"
import { receiveBufferFor, UdpBindError, UdpSendRejected, UdpTransport, type UdpTransportOptions } from "../../src/Daemon/UdpTransport.ts"
import { canBind, collect, daemon, freePortPair, loopbackConfig, optionsFor, settle, waitUntil } from "./udpSupport.ts"

const A = "127.0.0.1"
const B = "127.0.0.2"
const C = "127.0.0.3"

/** Builds one transport in the current scope. */
const start = (options: UdpTransportOptions) =>
  Layer.build(UdpTransport.layer(options)).pipe(Effect.map((context) => Context.get(context, UdpTransport)))

/** Three transports for daemons 101 (127.0.0.1), 102 (127.0.0.2), 103 (127.0.0.3) on one unicast-only segment. */
const three = Effect.gen(function*() {
  const port = yield* Effect.promise(() => freePortPair([A, B, C]))
  const config = loopbackConfig({ port, count: 3 })
  const a = yield* start(optionsFor(config, 0))
  const b = yield* start(optionsFor(config, 1))
  const c = yield* start(optionsFor(config, 2))
  return { port, a, b, c, ra: collect(a), rb: collect(b), rc: collect(c) }
})

const text = (bytes: Buffer): string => bytes.toString("utf8")
const bytes = (s: string): Buffer => Buffer.from(s, "utf8")

describe("UdpTransport", () => {
  it.live("sends unicast on the DATA and TOKEN channels, with the sender's configured IP as source", () =>
    Effect.gen(function*() {
      const { a, b, port, ra, rb } = yield* three
      assert.deepStrictEqual(a.local.bindAddress, A)
      assert.strictEqual(a.local.dataPort, port)
      assert.strictEqual(a.local.tokenPort, port + 1)

      assert.isUndefined(a.sendUnicast(102, "DATA", bytes("data a→b")))
      assert.isUndefined(a.sendUnicast(102, "TOKEN", bytes("token a→b")))
      assert.isUndefined(b.sendUnicast(101, "TOKEN", bytes("token b→a")))
      yield* waitUntil(() => rb.all().length === 2 && ra.all().length === 1)

      const got = rb.all()
      assert.deepStrictEqual(got.map((d) => [d.channel, text(d.bytes), d.address]), [
        ["DATA", "data a→b", A],
        ["TOKEN", "token a→b", A]
      ])
      assert.strictEqual(got[0]!.port, a.local.sendPort)
      assert.deepStrictEqual(ra.all().map((d) => [d.channel, text(d.bytes), d.address]), [["TOKEN", "token b→a", B]])
      assert.strictEqual(a.stats().sent, 2)
      assert.strictEqual(b.stats().received, 2)
    }))

  it.live("fans a multicast out to the given ring members, or to every configured daemon, never to itself", () =>
    Effect.gen(function*() {
      const { a, ra, rb, rc } = yield* three
      assert.isUndefined(a.sendMulticast([101, 102, 103], "DATA", bytes("ring")))
      assert.isUndefined(a.sendMulticast([101, 102], "DATA", bytes("ring of two")))
      assert.isUndefined(a.sendMulticast("CONFIGURED", "TOKEN", bytes("join")))
      yield* waitUntil(() => rb.all().length === 3 && rc.all().length === 2)
      yield* settle()

      const seen = (r: typeof rb) => r.all().map((d) => `${d.channel}:${text(d.bytes)}`).sort()
      assert.deepStrictEqual(seen(rb), ["DATA:ring", "DATA:ring of two", "TOKEN:join"])
      assert.deepStrictEqual(seen(rc), ["DATA:ring", "TOKEN:join"])
      assert.deepStrictEqual(ra.all(), [])
      assert.strictEqual(a.stats().sent, 5)
    }))

  it.live("hands DATA before TOKEN within a turn, and TOKEN first when told", () =>
    Effect.gen(function*() {
      const { a, b, rb } = yield* three

      a.sendUnicast(102, "TOKEN", bytes("t1"))
      a.sendUnicast(102, "DATA", bytes("d1"))
      a.sendUnicast(102, "DATA", bytes("d2"))
      yield* waitUntil(() => rb.all().length === 3)
      const first = rb.batches.find((batch) => batch.some((d) => d.channel === "TOKEN"))!
      assert.deepStrictEqual(first.map((d) => text(d.bytes)), ["d1", "d2", "t1"])

      b.setReadPriority("TOKEN_FIRST")
      rb.batches.length = 0
      a.sendUnicast(102, "DATA", bytes("d3"))
      a.sendUnicast(102, "TOKEN", bytes("t2"))
      a.sendUnicast(102, "DATA", bytes("d4"))
      yield* waitUntil(() => rb.all().length === 3)
      const second = rb.batches.find((batch) => batch.some((d) => d.channel === "TOKEN"))!
      assert.deepStrictEqual(second.map((d) => text(d.bytes)), ["t2", "d3", "d4"])
      // Every batch is ordered by channel.
      for (const batch of rb.batches) {
        const channels = batch.map((d) => d.channel)
        assert.deepStrictEqual(channels, [...channels].sort((x, y) => (x === y ? 0 : x === "TOKEN" ? -1 : 1)))
      }
    }))

  it.live("drops its own group datagram coming back, but not another socket on its address", () =>
    Effect.gen(function*() {
      // A "broadcast" segment whose group address is A's own address: the datagram comes straight
      // back to A's DATA socket from A's send socket, like a looped-back multicast.
      const port = yield* Effect.promise(() => freePortPair([A, B]))
      const base = loopbackConfig({ port, count: 2, kind: "broadcast", segmentAddress: A })
      const a = yield* start({ ...optionsFor(base, 0, "multicast"), bindAddress: A })
      const ra = collect(a)

      assert.isUndefined(a.sendMulticast("CONFIGURED", "DATA", bytes("own")))
      assert.strictEqual(a.stats().sent, 1, "one group datagram, no unicast to the segment member")
      yield* waitUntil(() => a.stats().droppedOwn === 1)

      const other = createSocket("udp4")
      yield* Effect.addFinalizer(() => Effect.sync(() => void other.close()))
      yield* Effect.callback<void>((resume) => void other.bind({ address: A, port: 0 }, () => resume(Effect.void)))
      other.send(bytes("from a neighbour"), port, A)
      yield* waitUntil(() => ra.all().length === 1)
      yield* settle(50)
      assert.deepStrictEqual(ra.all().map((d) => [text(d.bytes), d.address]), [["from a neighbour", A]])
      assert.strictEqual(a.stats().droppedOwn, 1)
    }))

  it.live("refuses sends to unknown, unaddressed or own ids and oversized datagrams, without throwing", () =>
    Effect.gen(function*() {
      const { a, rb } = yield* three
      const unknown = a.sendUnicast(999, "DATA", bytes("x"))
      assert.instanceOf(unknown, UdpSendRejected)
      assert.strictEqual(unknown?.reason, "UnknownDaemon")
      assert.strictEqual(unknown?.daemonId, 999)
      assert.strictEqual(a.sendUnicast(101, "TOKEN", bytes("x"))?.reason, "Self")
      assert.strictEqual(a.sendUnicast(102, "DATA", Buffer.alloc(70_000))?.reason, "TooLarge")

      const partial = a.sendMulticast([102, 999], "DATA", bytes("still to b"))
      assert.strictEqual(partial?.reason, "UnknownDaemon")
      yield* waitUntil(() => rb.all().length === 1)
      assert.strictEqual(text(rb.all()[0]!.bytes), "still to b")
      assert.deepStrictEqual(a.stats().rejected, { UnknownDaemon: 2, NoAddress: 0, Self: 1, TooLarge: 1, Closed: 0 })
      assert.strictEqual(a.stats().sent, 1)
    }))

  it.live("keeps receiving after a handler throws", () =>
    Effect.gen(function*() {
      const { a, b } = yield* three
      const seen: Array<string> = []
      b.onDatagrams((batch) => {
        for (const d of batch) seen.push(text(d.bytes))
        if (seen.length === 1) throw new Error("handler bug")
      })
      a.sendUnicast(102, "DATA", bytes("first"))
      yield* waitUntil(() => seen.length === 1)
      a.sendUnicast(102, "TOKEN", bytes("second"))
      yield* waitUntil(() => seen.length === 2)
      assert.deepStrictEqual(seen, ["first", "second"])
    }))

  it.live("releases both ports when the scope closes; afterwards sends are refused", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePortPair([A, B]))
      const config = loopbackConfig({ port, count: 2 })
      const scope = yield* Scope.make()
      const a = yield* start(optionsFor(config, 0)).pipe(Scope.provide(scope))
      assert.isFalse(yield* Effect.promise(() => canBind(A, port)))
      assert.isFalse(yield* Effect.promise(() => canBind(A, port + 1)))

      yield* Scope.close(scope, Exit.void)
      assert.isTrue(yield* Effect.promise(() => canBind(A, port)))
      assert.isTrue(yield* Effect.promise(() => canBind(A, port + 1)))
      assert.strictEqual(a.sendUnicast(102, "DATA", bytes("late"))?.reason, "Closed")
    }))

  it.live("fails with a typed error when the port is taken", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePortPair([A]))
      const config = loopbackConfig({ port, count: 2 })
      yield* start(optionsFor(config, 0))
      const error = yield* Effect.flip(Effect.scoped(start(optionsFor(config, 0))))
      assert.instanceOf(error, UdpBindError)
      assert.strictEqual(error.port, port)
    }))
})

describe("receive buffer", () => {
  it("holds two windows of the largest datagrams, within 1 MiB … 32 MiB", () => {
    assert.strictEqual(receiveBufferFor(DEFAULT_WINDOWS.window, DEFAULT_LIMITS.maxPacketSize), 1024 * 1024)
    assert.strictEqual(receiveBufferFor(160, 16_000), 2 * 160 * 16_000)
    assert.strictEqual(receiveBufferFor(1000, 65_000), 32 * 1024 * 1024)
  })

  it.live("is applied to the DATA socket (up to the kernel's net.core.rmem_max)", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePortPair([A]))
      const requested = 2 * 1024 * 1024
      const udp = yield* start({ ...optionsFor(loopbackConfig({ port, count: 2 }), 0), receiveBufferBytes: requested })
      const rmemMax = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"))
      // Linux doubles the request for its bookkeeping and caps it at rmem_max first.
      assert.isAtLeast(udp.local.receiveBufferBytes, Math.min(requested, rmemMax))
      assert.isAbove(udp.local.receiveBufferBytes, 425_984)
    }))
})

describe("UdpRoutes (§9.2 mapping)", () => {
  const local = daemon("a1", 1, 0, "10.0.0.1", 4803, 0)
  const neighbour = daemon("a2", 2, 1, "10.0.0.2", 4803, 0)
  const remote = daemon("b1", 3, 2, "10.1.0.1", 4903, 1)
  const unresolved = { ...daemon("b2", 4, 3, "10.1.0.2", 4903, 1), address: null }
  const segments = (kind: Segment["kind"]): ReadonlyArray<Segment> => [
    { addresses: ["239.1.1.1"], port: 4803, kind, daemons: [local, neighbour] },
    { addresses: ["10.1.0.255"], port: 4903, kind: "broadcast", daemons: [remote, unresolved] }
  ]
  const daemons = [local, neighbour, remote, unresolved]

  it("uses my segment's group plus unicast to other segments with Transport = multicast", () => {
    const routes = buildRoutes({ me: local, segments: segments("multicast"), daemons, transport: "multicast" })
    assert.deepStrictEqual(routes.group, { kind: "multicast", addresses: ["239.1.1.1"], port: 4803 })
    assert.isTrue(routes.configuredUsesGroup)
    assert.deepStrictEqual(routes.configuredUnicasts.map((r) => [r.id, r.address, r.port]), [[3, "10.1.0.1", 4903]])
    assert.deepStrictEqual([...routes.unaddressed], [4])
    assert.strictEqual(defaultBindAddress(local, routes, "IPv4"), "0.0.0.0")
  })

  it("unicasts to everyone with Transport = unicast or a unicast-only segment", () => {
    for (const [kind, transport] of [["multicast", "unicast"], ["unicast-only", "multicast"]] as const) {
      const routes = buildRoutes({ me: local, segments: segments(kind), daemons, transport })
      assert.isUndefined(routes.group)
      assert.isFalse(routes.configuredUsesGroup)
      assert.deepStrictEqual(routes.configuredUnicasts.map((r) => r.id), [2, 3])
      assert.strictEqual(defaultBindAddress(local, routes, "IPv4"), "10.0.0.1")
    }
  })
})

describe("scopedToInterface (IPv6 multicast names an interface by its scope)", () => {
  const table = { lo: [{ address: "127.0.0.1" }, { address: "::1" }], eth1: [{ address: "10.0.0.1" }, { address: "fd00:0:0:5::1" }] }
  it("gives an IPv6 address the scope of the interface that holds it", () => {
    assert.strictEqual(scopedToInterface("fd00:0:0:5::1", table), "fd00:0:0:5::1%eth1")
    assert.strictEqual(scopedToInterface("fd00:0000:0:5:0:0:0:1", table), "fd00:0000:0:5:0:0:0:1%eth1")
  })
  it("leaves IPv4, scoped and foreign addresses as they are", () => {
    assert.strictEqual(scopedToInterface("10.0.0.1", table), "10.0.0.1")
    assert.strictEqual(scopedToInterface("fe80::1%eth0", table), "fe80::1%eth0")
    assert.strictEqual(scopedToInterface("fd00::9", table), "fd00::9")
  })
  it("names the interface multicasts leave by: the address (IPv4), `::%if` (IPv6), or the kernel's choice", () => {
    assert.strictEqual(multicastSendInterface("10.0.0.1", table), "10.0.0.1")
    assert.strictEqual(multicastSendInterface("fd00:0:0:5::1", table), "::%eth1")
    assert.strictEqual(multicastSendInterface("fe80::1%eth0", table), "::%eth0")
    assert.isUndefined(multicastSendInterface("fd00::9", table))
  })
})
