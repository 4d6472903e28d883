/**
 * Session rules of client-protocol §8 and the robustness the issue asks for (§12): bad input of
 * any kind ends only the offending session, never the daemon, and never slows anyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  AGREED_MESS,
  CAUSED_BY_DISCONNECT,
  encodeClientMessage,
  encodeConnect,
  FIFO_MESS,
  REG_MEMB_MESS,
  SAFE_MESS,
  SELF_DISCARD
} from "../../src/Protocol/index.ts"
import { type RunningDaemon, sleep, startDaemon } from "../support/daemon.ts"
import { RawClient } from "../support/rawClient.ts"
import { connectPeer, join, joinAndWait, kill, leave, multicast, type Peer, receive } from "../support/session.ts"

let daemon: RunningDaemon
let tcp: { readonly port: number }
let unix: { readonly path: string }
let counter = 0
/** A fresh private name per test, so tests never collide on the shared daemon. */
const uniqueName = (base: string): string => `${base}${++counter}`.slice(0, 10)

beforeAll(async () => {
  daemon = await startDaemon({ name: "node1" })
  tcp = { port: daemon.port }
  unix = { path: daemon.unixPath }
})
afterAll(async () => {
  await daemon.stop()
})

/** The daemon still serves: a new session can join and hear itself. */
const daemonStillServes = async (): Promise<void> => {
  const p = await connectPeer(tcp, uniqueName("probe"))
  await joinAndWait(p, "alive")
  multicast(p, ["alive"], Buffer.from("ping"))
  const m = await receive(p)
  expect(m._tag === "Data" && m.data.toString()).toBe("ping")
  kill(p)
  await p.client.eof()
}

const expectDisconnectOf = async (observer: Peer, gone: Peer, group: string): Promise<void> => {
  const m = await receive(observer)
  expect(m._tag).toBe("Membership")
  if (m._tag !== "Membership") return
  expect(m.serviceType).toBe(REG_MEMB_MESS | CAUSED_BY_DISCONNECT)
  expect(m.group).toBe(group)
  expect(m.changedMember).toBe(gone.privateGroup)
}

describe("sessions (client-protocol §8)", () => {
  it("TCP and Unix-socket clients share groups and see one interleaving of data and views", async () => {
    const group = uniqueName("mix")
    const a = await connectPeer(tcp, uniqueName("a"))
    const b = await connectPeer(unix, uniqueName("b"))
    await joinAndWait(a, group)
    await joinAndWait(b, group)
    const services = [1, 2, 4, 8, 16, 32]
    for (const service of services) multicast(a, [group], Buffer.from(`s${service}`), { service, messType: service })
    leave(b, group)
    // The leave races the data (another socket), but both must see the same interleaving: B gets
    // exactly the data A saw before B's leave, then its self-leave.
    const seenByA: Array<string> = []
    while (seenByA.length < services.length + 2) { // B's join, the data, B's leave
      const m = await receive(a)
      seenByA.push(m._tag === "Data" ? `${m.serviceType}:${m.data.toString()}` : `${m._tag}:${m.serviceType.toString(16)}`)
    }
    expect(seenByA.filter((x) => !x.startsWith("Membership"))).toEqual(services.map((s) => `${s}:s${s}`))
    const beforeLeave = seenByA.slice(1, seenByA.indexOf("Membership:1200"))
    const seenByB: Array<string> = []
    for (;;) {
      const m = await receive(b)
      if (m._tag === "SelfLeave") break
      seenByB.push(m._tag === "Data" ? `${m.serviceType}:${m.data.toString()}` : `${m._tag}:${m.serviceType.toString(16)}`)
    }
    expect(seenByB).toEqual(beforeLeave)
    kill(a)
    kill(b)
  })

  it("a session without membership messages still gets data", async () => {
    const group = uniqueName("quiet")
    const quiet = await connectPeer(tcp, uniqueName("q"), false)
    const loud = await connectPeer(tcp, uniqueName("l"))
    await joinAndWait(loud, group)
    join(quiet, group)
    expect(await receive(loud)).toMatchObject({ _tag: "Membership", changedMember: quiet.privateGroup })
    multicast(loud, [group], Buffer.from("data"))
    const m = await receive(quiet)
    expect(m._tag === "Data" && m.data.toString()).toBe("data")
    expect((await receive(loud))._tag).toBe("Data")
    kill(quiet)
    await expectDisconnectOf(loud, quiet, group)
    kill(loud)
  })

  it("a session named three times, or in several target groups, gets a message once; SELF_DISCARD skips the sender", async () => {
    const g1 = uniqueName("g")
    const g2 = uniqueName("g")
    const a = await connectPeer(tcp, uniqueName("a"))
    await joinAndWait(a, g1)
    await joinAndWait(a, g2)
    multicast(a, [g1, g1, g2, a.privateGroup], Buffer.from("once"))
    multicast(a, [g1], Buffer.from("discarded"), { service: AGREED_MESS | SELF_DISCARD })
    multicast(a, [g2], Buffer.from("marker"))
    expect((await receive(a))._tag === "Data").toBe(true)
    const next = await receive(a)
    expect(next._tag === "Data" && next.data.toString()).toBe("marker")
    kill(a)
  })

  it("60 destination groups reach the members of the last one (Spread loses ≥ 44)", async () => {
    const groups = Array.from({ length: 60 }, (_, i) => `many${counter}-${i}`)
    const member = await connectPeer(tcp, uniqueName("m"))
    await joinAndWait(member, groups[59]!)
    const sender = await connectPeer(tcp, uniqueName("s"))
    multicast(sender, groups, Buffer.from("wide"))
    const m = await receive(member)
    expect(m._tag === "Data" && m.groups.length).toBe(60)
    kill(member)
    kill(sender)
  })

  it("a private-group send reaches only that session; an unknown private group is dropped", async () => {
    const a = await connectPeer(tcp, uniqueName("a"))
    const b = await connectPeer(unix, uniqueName("b"))
    multicast(a, ["#nobody#node1", "#x#otherdaemon", b.privateGroup], Buffer.from("psst"), { service: FIFO_MESS })
    const m = await receive(b)
    expect(m._tag === "Data" && [m.sender, m.data.toString()]).toEqual([a.privateGroup, "psst"])
    await a.client.silence(200)
    kill(a)
    kill(b)
  })

  it("the handshake may arrive one byte at a time", async () => {
    const c = await RawClient.connect(tcp)
    const name = uniqueName("slow")
    for (const byte of encodeConnect({ version: { major: 5, minor: 0, patch: 1 }, groupMembership: true, priority: 0, name })) {
      c.write(Buffer.from([byte]))
      await sleep(5)
    }
    const list = await c.read(6)
    expect(list.toString("latin1", 1)).toBe("NULL ")
    const choice = Buffer.alloc(90)
    choice.write("NULL")
    c.write(choice.subarray(0, 40))
    await sleep(20)
    c.write(choice.subarray(40))
    const accept = await c.read(5 + 1 + name.length + 6)
    expect(accept.toString("latin1", 5)).toBe(`#${name}#node1`)
    c.close()
  })

  it("a name is unique while its session lives, and free again once it is gone", async () => {
    const name = uniqueName("dup")
    const first = await connectPeer(tcp, name)
    await expect(connectPeer(unix, name)).rejects.toThrow("handshake rejected: 250")
    kill(first)
    await first.client.eof()
    const again = await connectPeer(unix, name)
    kill(again)
  })
})

describe("bad input ends only its own session (client-protocol §5.3, §12)", () => {
  const violations: ReadonlyArray<[string, (p: Peer) => Buffer]> = [
    ["two services (AGREED|SAFE)", (p) => encodeClientMessage({ type: AGREED_MESS | SAFE_MESS, sender: p.privateGroup, groups: ["x"], messType: 0, data: Buffer.alloc(1) })],
    ["someone else's private group as sender", () => encodeClientMessage({ type: AGREED_MESS, sender: "#mallory#node1", groups: ["x"], messType: 0, data: Buffer.alloc(1) })],
    ["num_groups 101", (p) => encodeClientMessage({ type: AGREED_MESS, sender: p.privateGroup, groups: Array.from({ length: 101 }, () => "x"), messType: 0, data: Buffer.alloc(0) })],
    ["data_len 200000 (only the header is sent)", (p) => {
      const m = encodeClientMessage({ type: AGREED_MESS, sender: p.privateGroup, groups: ["x"], messType: 0, data: Buffer.alloc(0) })
      m.writeInt32LE(200_000, 44)
      return m
    }],
    ["data + groups = 143953", (p) => encodeClientMessage({ type: AGREED_MESS, sender: p.privateGroup, groups: ["x"], messType: 0, data: Buffer.alloc(143_953 - 32) })],
    ["reserved hint bits", (p) => {
      const m = encodeClientMessage({ type: AGREED_MESS, sender: p.privateGroup, groups: ["x"], messType: 0, data: Buffer.alloc(0) })
      m.writeUInt32LE(0x80000081, 40)
      return m
    }],
    ["48 bytes of garbage", () => Buffer.from("this is not a spread header, it is just text!!!!")]
  ]

  for (const [what, bytes] of violations) {
    it(`${what}: the sender is cut off, the others see it leave, the daemon serves on`, async () => {
      const group = uniqueName("bad")
      const observer = await connectPeer(tcp, uniqueName("obs"))
      const culprit = await connectPeer(tcp, uniqueName("bad"))
      await joinAndWait(observer, group)
      join(culprit, group)
      await receive(observer)
      await receive(culprit)
      culprit.client.write(bytes(culprit))
      await culprit.client.eof()
      await expectDisconnectOf(observer, culprit, group)
      kill(observer)
      await daemonStillServes()
    })
  }

  it("the largest valid message (data + groups = 143952) is delivered intact", async () => {
    const a = await connectPeer(tcp, uniqueName("big"))
    const group = uniqueName("big")
    await joinAndWait(a, group)
    const data = Buffer.alloc(143_952 - 32, 7)
    multicast(a, [group], data)
    const m = await receive(a)
    expect(m._tag === "Data" && m.data.equals(data)).toBe(true)
    kill(a)
  })

  it("garbage instead of a handshake closes that connection only", async () => {
    const c = await RawClient.connect(tcp)
    c.write(Buffer.from([0x05, 0x00, 0x01, 0x01, 0x7f, 0x41]))
    expect((await c.read(1))[0]).toBe(0xfb)
    await c.eof()
    await daemonStillServes()
  })

  it("a silent connection is closed after the handshake timeout", async () => {
    const c = await RawClient.connect(unix)
    await c.eof(10_000)
  }, 15_000)

  it("a reader that stops reading is cut off (SLOW_READER_GRACE_MS); its sender is held back meanwhile, then goes on", async () => {
    const group = uniqueName("flood")
    const slow = await connectPeer(tcp, uniqueName("slow"))
    const fast = await connectPeer(tcp, uniqueName("fast"))
    await joinAndWait(slow, group)
    join(fast, group)
    await receive(slow)
    await receive(fast)
    slow.client.socket.pause()
    // Like Spread's flooder: at most 200 of its own messages in flight.
    const payload = Buffer.alloc(1000, 1)
    const total = 20_000
    const window = 200
    let sent = 0
    let received = 0
    let sawKill = false
    while (received < total) {
      while (sent < total && sent - received < window) {
        multicast(fast, [group], payload)
        sent++
      }
      const m = await receive(fast, 10_000)
      if (m._tag === "Data") received++
      else if (m._tag === "Membership" && m.changedMember === slow.privateGroup) sawKill = true
    }
    expect(sawKill).toBe(true)
    slow.client.socket.resume()
    await slow.client.eof(10_000).catch(() => undefined)
    expect(slow.client.isEnded).toBe(true)
    kill(fast)
  }, 30_000)

  it("a receiver that reads, only slower than an unpaced burst, is never cut off: the sender is held back", async () => {
    const group = uniqueName("burst")
    const receiver = await connectPeer(unix, uniqueName("recv"))
    await joinAndWait(receiver, group)
    const sender = await connectPeer(tcp, uniqueName("send"))
    const total = 20_000
    const payload = Buffer.alloc(1000, 2)
    for (let i = 0; i < total; i++) multicast(sender, [group], payload)
    for (let i = 0; i < total; i++) {
      const m = await receive(receiver, 10_000)
      expect(m._tag).toBe("Data")
    }
    kill(receiver)
    kill(sender)
    await sender.client.eof()
  }, 30_000)

  it("the 998th connection gets REJECT_QUOTA at once; the others are unaffected", async () => {
    const quota = await startDaemon({ name: "node1" })
    const held: Array<RawClient> = []
    try {
      const peers = await Promise.all(Array.from({ length: 997 }, (_, i) => connectPeer({ port: quota.port }, `s${i}`)))
      held.push(...peers.map((p) => p.client))
      const refused = await RawClient.connect({ path: quota.unixPath })
      expect((await refused.read(1))[0]).toBe(0xfd)
      await refused.eof()
      held.pop()!.close()
      await sleep(200)
      const p = await connectPeer({ port: quota.port }, "late")
      await joinAndWait(p, "room")
    } finally {
      for (const c of held) c.close()
      await quota.stop()
    }
  }, 30_000)
})
