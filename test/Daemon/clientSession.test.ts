/**
 * The daemon's session logic without sockets (sans-IO): a ClientSession over a DaemonCore with a
 * recording sink. Arbitrary bytes from a client never throw, and never disturb another session.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { defaultAuthPolicy } from "../../src/Daemon/Auth.ts"
import { ClientSession } from "../../src/Daemon/ClientSession.ts"
import type { DaemonCore } from "../../src/Membership/DaemonCore.ts"
import {
  AGREED_MESS,
  decodeDaemonMessage,
  encodeAuthChoice,
  encodeClientMessage,
  encodeConnect,
  encodeDataDelivery,
  encodeJoin,
  HEADER_LENGTH
} from "../../src/Protocol/index.ts"
import { coreOfOne } from "../support/core.ts"

interface World {
  readonly core: DaemonCore
  readonly delivered: Map<number, Array<Buffer>>
  readonly closed: Set<number>
  readonly written: Map<number, Array<Buffer>>
  readonly open: (id: number) => ClientSession
}

const world = (): World => {
  const delivered = new Map<number, Array<Buffer>>()
  const closed = new Set<number>()
  const written = new Map<number, Array<Buffer>>()
  const { core, settle } = coreOfOne({
    deliver: (id, bytes) => delivered.set(id, [...(delivered.get(id) ?? []), bytes]),
    close: (id) => closed.add(id)
  })
  // Each read is followed by the turn in which the ring orders and delivers it.
  const open = (id: number): ClientSession => {
    const session = new ClientSession(id, core, defaultAuthPolicy, {
      write: (bytes) => written.set(id, [...(written.get(id) ?? []), bytes]),
      end: () => closed.add(id),
      report: () => {}
    })
    const receive = session.receive.bind(session)
    const end = session.end.bind(session)
    session.receive = (chunk) => (receive(chunk), settle())
    session.end = (reason) => (end(reason), settle())
    return session
  }
  return { core, delivered, closed, written, open }
}

const handshake = (s: ClientSession, name: string): void => {
  s.receive(encodeConnect({ version: { major: 5, minor: 0, patch: 1 }, groupMembership: true, priority: 0, name }))
  s.receive(encodeAuthChoice(["NULL"]))
}

describe("ClientSession (sans-IO)", () => {
  it("a full handshake writes the auth list and the accept, and opens the session", () => {
    const w = world()
    const s = w.open(1)
    handshake(s, "alice")
    expect(s.isOperational).toBe(true)
    expect(Buffer.concat(w.written.get(1)!).toString("hex")).toBe("054e554c4c20" + "010500010c23616c696365236e6f646531")
  })

  it("a join, then a message, reach the member in order", () => {
    const w = world()
    const s = w.open(1)
    handshake(s, "alice")
    s.receive(Buffer.concat([
      encodeJoin("#alice#node1", "chat"),
      encodeClientMessage({ type: AGREED_MESS, sender: "#alice#node1", groups: ["chat"], messType: 3, data: Buffer.from("hi") })
    ]))
    const got = (w.delivered.get(1) ?? []).map((b) => decodeDaemonMessage(b, "#alice#node1")._tag)
    expect(got).toEqual(["Membership", "Data"])
  })

  it("a message comes back in the one form every daemon delivers: names NUL-padded, our byte order", () => {
    const w = world()
    const s = w.open(1)
    handshake(s, "alice")
    s.receive(encodeJoin("#alice#node1", "chat"))
    const fields = { type: AGREED_MESS, sender: "#alice#node1", groups: ["chat"], messType: 3, data: Buffer.from("hi") }
    const canonical = encodeDataDelivery({ service: AGREED_MESS, sender: "#alice#node1", groups: ["chat"], messType: 3, senderBigEndian: false, payload: fields.data })
    const junk = encodeClientMessage(fields)
    junk.fill(0x7a, HEADER_LENGTH + 5, HEADER_LENGTH + 32) // bytes after the group name's NUL
    for (const message of [encodeClientMessage(fields), junk, encodeClientMessage({ ...fields, byteOrder: "big" })]) s.receive(message)
    const data = (w.delivered.get(1) ?? []).slice(1)
    expect(data).toHaveLength(3)
    expect(data[0]!.toString("hex")).toBe(canonical.toString("hex"))
    expect(data[1]!.toString("hex")).toBe(canonical.toString("hex"))
    // A big-endian sender keeps its own hint bytes (client-protocol §4.2); the rest is canonical.
    expect(data[2]!.subarray(0, 40).equals(canonical.subarray(0, 40))).toBe(true)
    expect(data[2]!.subarray(44).equals(canonical.subarray(44))).toBe(true)
  })

  it("arbitrary bytes, in arbitrary pieces, never throw and never touch another session", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }),
        fc.boolean(),
        (chunks, afterHandshake) => {
          const w = world()
          const bystander = w.open(1)
          handshake(bystander, "bob")
          bystander.receive(encodeJoin("#bob#node1", "chat"))
          const before = w.delivered.get(1)?.length ?? 0
          const fuzz = w.open(2)
          if (afterHandshake) handshake(fuzz, "eve")
          for (const c of chunks) fuzz.receive(Buffer.from(c))
          fuzz.end("fuzz over")
          // The bystander is still operational; whatever it got since is a whole, valid message.
          expect(bystander.isOperational).toBe(true)
          for (const b of (w.delivered.get(1) ?? []).slice(before)) decodeDaemonMessage(b, "#bob#node1")
          expect(w.closed.has(1)).toBe(false)
          expect(w.core.sessionCount).toBe(1)
        }
      ),
      { numRuns: 500 }
    )
  })
})
