/**
 * daemon-protocol §10: what a daemon does with monitor requests (pure handler), and the
 * monitor-injected partition filter with its 60 s auto-clear.
 */
import { describe, expect, it } from "vitest"
import { worstCommitTokenSize } from "../../src/Config/Checks.js"
import { MAX_DATAGRAM } from "../../src/Config/Defaults.js"
import {
  handleMonitorRequest, largestWindow, type MonitorAction, type MonitorContext, PARTITION_CLEAR_MS, PartitionFilter
} from "../../src/Membership/Monitor.js"
import {
  decodeMonitorPacket, encodeMonitorPacket, type MonitorRequest, type MonStatusReply, signMonitorPacket,
  type StatusReplyFields, verifyMonitorPacket
} from "../../src/Protocol/Ring/Monitor.js"

const HASH = 0xabcd1234
const MY_ID = 1001

const status: StatusReplyFields = {
  uptimeMs: 5000,
  state: "OPERATIONAL",
  gstate: "GOP",
  myId: MY_ID,
  leaderId: 1000,
  ringId: { seq: 12, rep: 1000 },
  windows: { window: 160, personalWindow: 20, acceleratedWindow: 15 },
  acceleratedRing: true,
  sessions: 2,
  groups: 3,
  counters: {
    packetsSent: 1, packetsReceived: 2, packetsDelivered: 3, retransmissionsUnicast: 4, retransmissionsMulticast: 5,
    aru: 6, myAru: 6, highSeq: 7, tokenHurries: 8, tokenRetransmissions: 9, rotations: 10, messagesDelivered: 11,
    membershipChanges: 12
  },
  members: [1000, 1001, 1002],
  daemonName: "node2",
  version: "0.1.0"
}

const ctx = (over: Partial<MonitorContext> = {}): MonitorContext => ({
  dangerousMonitor: true,
  sourceIsConfiguredDaemon: true,
  configHash: HASH,
  myRank: 1,
  configuredCount: 3,
  maxWindow: 1000,
  status: () => status,
  ...over
})

const request = (p: MonitorRequest, hash = HASH): Buffer => encodeMonitorPacket(hash, p)

const replyOf = (actions: ReadonlyArray<MonitorAction>, key?: Uint8Array): { port: number; reply: MonStatusReply } => {
  const r = actions.find((a) => a._tag === "Reply")
  if (r === undefined) throw new Error(`no reply in ${JSON.stringify(actions.map((a) => a._tag))}`)
  let bytes = r.bytes
  if (key !== undefined) {
    const v = verifyMonitorPacket(bytes, key)
    if (!v.ok) throw new Error("reply not signed")
    bytes = v.packet
  }
  const d = decodeMonitorPacket(bytes)
  if (!d.ok || d.packet._tag !== "MON_STATUS_REPLY") throw new Error("reply does not decode")
  expect(d.header).toMatchObject({ configHash: HASH, senderId: 0 })
  return { port: r.port, reply: d.packet }
}

const tags = (actions: ReadonlyArray<MonitorAction>) => actions.map((a) => a._tag)

describe("handleMonitorRequest (§10)", () => {
  it("answers a status request to the reply port, echoing the nonce", () => {
    const actions = handleMonitorRequest(request({ _tag: "MON_STATUS_REQUEST", replyPort: 40_001, nonce: 77 }), ctx({ dangerousMonitor: false }))
    expect(tags(actions)).toEqual(["Reply"])
    const { port, reply } = replyOf(actions)
    expect(port).toBe(40_001)
    expect(reply).toEqual({ _tag: "MON_STATUS_REPLY", nonce: 77, answered: "MON_STATUS_REQUEST", outcome: "STATUS", detail: "", status })
  })

  it("drops requests from non-configured sources, other hashes, non-zero senders and garbage, without answering", () => {
    const ok = request({ _tag: "MON_STATUS_REQUEST", replyPort: 1, nonce: 1 })
    const sender = Buffer.from(ok)
    sender.writeUInt32LE(9, 8)
    sender.writeUInt16LE(0, 16) // no CRC, so the sender id is what fails
    sender.writeUInt32LE(0, 20)
    const cases: ReadonlyArray<readonly [Buffer, Partial<MonitorContext>, string]> = [
      [ok, { sourceIsConfiguredDaemon: false }, "no configured daemon"],
      [request({ _tag: "MON_STATUS_REQUEST", replyPort: 1, nonce: 1 }, 5), {}, "configuration hash"],
      [sender, {}, "sender id"],
      [ok.subarray(0, 27), {}, "malformed"],
      [request({ _tag: "MON_STATUS_REQUEST", replyPort: 1, nonce: 1 }).fill(0xff, 24), {}, "malformed"]
    ]
    for (const [bytes, over, reason] of cases) {
      const actions = handleMonitorRequest(bytes, ctx(over))
      expect(actions).toEqual([{ _tag: "Dropped", reason: expect.stringContaining(reason) }])
    }
    const reply = encodeMonitorPacket(HASH, { _tag: "MON_STATUS_REPLY", nonce: 1, answered: "MON_RELOAD", outcome: "ACCEPTED", detail: "", status })
    expect(tags(handleMonitorRequest(reply, ctx()))).toEqual(["Dropped"])
  })

  it("with a MonitorKey: requires the HMAC and signs the reply", () => {
    const key = Buffer.from("secret")
    const plain = request({ _tag: "MON_STATUS_REQUEST", replyPort: 5, nonce: 9 })
    expect(handleMonitorRequest(plain, ctx({ monitorKey: key }))).toEqual([
      { _tag: "Dropped", reason: expect.stringContaining("MonitorKey") }
    ])
    const wrong = signMonitorPacket(plain, Buffer.from("other"))
    expect(tags(handleMonitorRequest(wrong, ctx({ monitorKey: key })))).toEqual(["Dropped"])
    const actions = handleMonitorRequest(signMonitorPacket(plain, key), ctx({ monitorKey: key }))
    expect(replyOf(actions, key).reply.nonce).toBe(9)
  })

  it("refuses every dangerous command when DangerousMonitor is off, and says so in the reply", () => {
    const commands: ReadonlyArray<MonitorRequest> = [
      { _tag: "MON_PARTITION", replyPort: 5, nonce: 1, components: [0, 0, 1] },
      { _tag: "MON_FLOW_CONTROL", replyPort: 5, nonce: 2, window: 100, perDaemon: [] },
      { _tag: "MON_RELOAD", replyPort: 5, nonce: 3 },
      { _tag: "MON_KILL", replyPort: 5, nonce: 4, targets: [MY_ID] }
    ]
    for (const c of commands) {
      const actions = handleMonitorRequest(request(c), ctx({ dangerousMonitor: false }))
      expect(tags(actions)).toEqual(["Refused", "Reply"])
      expect(actions[0]).toMatchObject({ reason: expect.stringContaining("DangerousMonitor is off") })
      expect(replyOf(actions).reply).toMatchObject({ nonce: c.nonce, answered: c._tag, outcome: "REFUSED_DANGEROUS" })
    }
  })

  it("partition: accepted with one component per configured daemon, else refused as invalid", () => {
    const ok = handleMonitorRequest(request({ _tag: "MON_PARTITION", replyPort: 5, nonce: 1, components: [0, 0, 1] }), ctx())
    expect(tags(ok)).toEqual(["Reply", "SetPartition"])
    expect(ok[1]).toEqual({ _tag: "SetPartition", components: [0, 0, 1] })
    expect(replyOf(ok).reply.outcome).toBe("ACCEPTED")
    const bad = handleMonitorRequest(request({ _tag: "MON_PARTITION", replyPort: 5, nonce: 1, components: [0, 1] }), ctx())
    expect(tags(bad)).toEqual(["Refused", "Reply"])
    expect(replyOf(bad).reply).toMatchObject({ outcome: "REFUSED_INVALID", detail: expect.stringContaining("names 2 daemons") })
  })

  it("flow control: takes my rank's entry, leaves unchanged values out, checks the window order", () => {
    const fcReq = (window: number | null, personal: number | null, accelerated: number | null): Buffer =>
      request({
        _tag: "MON_FLOW_CONTROL",
        replyPort: 5,
        nonce: 1,
        window,
        perDaemon: [{ personalWindow: 1, acceleratedWindow: 1 }, { personalWindow: personal, acceleratedWindow: accelerated }, {
          personalWindow: 2,
          acceleratedWindow: 2
        }]
      })
    expect(handleMonitorRequest(fcReq(200, 30, null), ctx())[1]).toEqual({ _tag: "SetWindows", window: 200, personal: 30 })
    expect(handleMonitorRequest(fcReq(null, null, 10), ctx())[1]).toEqual({ _tag: "SetWindows", accelerated: 10 })
    const refusals: ReadonlyArray<readonly [Buffer, string]> = [
      [fcReq(10, null, null), "PersonalWindow 20 exceeds Window 10"],
      [fcReq(null, null, 30), "AcceleratedWindow 30 exceeds PersonalWindow 20"],
      [fcReq(2000, null, null), "commit token bound"],
      [fcReq(0, null, null), "at least 1"]
    ]
    for (const [bytes, detail] of refusals) {
      const actions = handleMonitorRequest(bytes, ctx())
      expect(tags(actions)).toEqual(["Refused", "Reply"])
      expect(replyOf(actions).reply).toMatchObject({ outcome: "REFUSED_INVALID", detail: expect.stringContaining(detail) })
    }
    // Without the accelerated ring, AcceleratedWindow is not ordered against PersonalWindow.
    const noAr = ctx({ status: () => ({ ...status, acceleratedRing: false }) })
    expect(tags(handleMonitorRequest(fcReq(null, null, 30), noAr))).toEqual(["Reply", "SetWindows"])
  })

  it("reload and kill: the reply comes before the action; a kill for others only answers", () => {
    expect(tags(handleMonitorRequest(request({ _tag: "MON_RELOAD", replyPort: 5, nonce: 1 }), ctx()))).toEqual(["Reply", "Reload"])
    const kill = handleMonitorRequest(request({ _tag: "MON_KILL", replyPort: 5, nonce: 1, targets: [7, MY_ID] }), ctx())
    expect(tags(kill)).toEqual(["Reply", "Exit"])
    const other = handleMonitorRequest(request({ _tag: "MON_KILL", replyPort: 5, nonce: 1, targets: [7] }), ctx())
    expect(tags(other)).toEqual(["Reply"])
    expect(replyOf(other).reply).toMatchObject({ outcome: "ACCEPTED", detail: "not among the kill targets" })
  })

  it("reload under another hash (§9.5: the monitor reads the new file): accepted, answered under that hash; other commands dropped", () => {
    const NEW = 0x5eed0002
    const reload = handleMonitorRequest(request({ _tag: "MON_RELOAD", replyPort: 5, nonce: 3 }, NEW), ctx())
    expect(tags(reload)).toEqual(["Reply", "Reload"])
    const r = reload[0]!
    const d = decodeMonitorPacket(r._tag === "Reply" ? r.bytes : Buffer.alloc(0))
    expect(d.ok && d.header.configHash).toBe(NEW)
    expect(tags(handleMonitorRequest(request({ _tag: "MON_RELOAD", replyPort: 5, nonce: 3 }, NEW), ctx({ dangerousMonitor: false })))).toEqual(["Refused", "Reply"])
    const kill = handleMonitorRequest(request({ _tag: "MON_KILL", replyPort: 5, nonce: 1, targets: [MY_ID] }, NEW), ctx())
    expect(tags(kill)).toEqual(["Dropped"])
  })

  it("largestWindow is the largest Window whose worst commit token fits a datagram", () => {
    for (const [daemons, gap] of [[3, 1000], [128, 1000], [20, 20_000]] as const) {
      const w = largestWindow(daemons, gap)
      expect(worstCommitTokenSize(daemons, w, gap)).toBeLessThanOrEqual(MAX_DATAGRAM)
      if (w < 32_767) expect(worstCommitTokenSize(daemons, w + 1, gap)).toBeGreaterThan(MAX_DATAGRAM)
    }
  })
})

describe("PartitionFilter (§10)", () => {
  it("drops packets from other components only, until cleared", () => {
    const f = new PartitionFilter()
    expect(f.blocks(2, 0)).toBe(false)
    f.set([0, 0, 1], 0, 1000)
    expect([0, 1, 2, 3].map((r) => f.blocks(r, 1000))).toEqual([false, false, true, false])
    f.clear()
    expect(f.blocks(2, 1000)).toBe(false)
  })

  it("all zeros clears, and the partition lifts itself after PartitionClear", () => {
    const f = new PartitionFilter()
    f.set([1, 0, 0], 1, 0)
    expect(f.blocks(0, PARTITION_CLEAR_MS - 1)).toBe(true)
    expect(f.blocks(0, PARTITION_CLEAR_MS)).toBe(false)
    expect(f.active(PARTITION_CLEAR_MS)).toBe(false)
    f.set([1, 0, 0], 1, 10)
    expect(f.active(20)).toBe(true)
    f.set([0, 0, 0], 1, 30)
    expect(f.blocks(0, 30)).toBe(false)
  })

  it("a new partition restarts the clock", () => {
    const f = new PartitionFilter()
    f.set([0, 1], 0, 0)
    f.set([0, 2], 0, 50_000)
    expect(f.blocks(1, 100_000)).toBe(true)
    expect(f.blocks(1, 110_000)).toBe(false)
  })
})
