/**
 * Replays a golden vector (test/fixtures/README.md) against daemons: each connection's client
 * bytes are written in order, and what comes back must equal the bytes the real Spread 5.0.1
 * daemon sent, outside the documented varying ranges, which are compared by meaning (group ids
 * by label, invented names by form). Used for one daemon (test/Daemon/vectors.test.ts) and for
 * two daemons on two hosts (test/Netns/vector40.test.ts).
 */
import { expect } from "vitest"
import { decodeDaemonMessage } from "../../src/Protocol/index.ts"
import { type D2cStep, type Fixture, fromHex, maskHex } from "../Protocol/vectors.ts"
import { RawClient } from "./rawClient.ts"

export interface ReplayTargets {
  /** Opens connection `conn` (its fixture entry says to which daemon and over what transport). */
  readonly connect: (conn: string, connection: { readonly transport?: "tcp" | "unix"; readonly daemon?: string }) => Promise<RawClient>
  /** A control event other than connect/close (e.g. `sigstop` of a daemon named by `conn`). */
  readonly control?: (event: string, conn: string) => void | Promise<void>
  /** How long to wait for each expected item (default 5 s). */
  readonly timeoutMs?: number
  /**
   * A documented difference: an item `conn` received that the vector does not have, skipped
   * before the expected one is compared (default: none is).
   */
  readonly extra?: (conn: string, actual: Buffer) => boolean
}

/** Reads the next item of the kind the vector expects, whatever its length turns out to be. */
const readItem = async (client: RawClient, step: D2cStep, timeoutMs: number): Promise<Buffer> => {
  const kind = step.decoded?.kind
  if (kind === "message") return client.readMessage(timeoutMs)
  if (kind === "auth_list") {
    const length = await client.read(1, timeoutMs)
    return Buffer.concat([length, await client.read(length[0]!, timeoutMs)])
  }
  if (kind === "accept") {
    const withPatch = fromHex(step.hex).length === 5 + fromHex(step.hex)[4]!
    const head = await client.read(withPatch ? 5 : 4, timeoutMs)
    return Buffer.concat([head, await client.read(head[head.length - 1]!, timeoutMs)])
  }
  return client.read(1, timeoutMs)
}

const INVENTED = /^#r\d{1,4}-\d{1,4}#node1$/

export const replay = async (fixture: Fixture, targets: ReplayTargets): Promise<void> => {
  const timeoutMs = targets.timeoutMs ?? 5000
  const clients = new Map<string, RawClient>()
  const gidByLabel = new Map<string, string>()
  const labelByGid = new Map<string, string>()
  const client = (conn: string): RawClient => {
    const c = clients.get(conn)
    if (c === undefined) throw new Error(`no connection ${conn}`)
    return c
  }
  try {
    for (const step of fixture.steps) {
      if (step.dir === "ctl") {
        if (step.event === "connect") {
          clients.set(step.conn, await targets.connect(step.conn, fixture.connections[step.conn] as { readonly transport?: "tcp" | "unix" }))
        } else if (step.event === "close") client(step.conn).close()
        else await targets.control?.(step.event, step.conn)
        continue
      }
      if (step.dir === "c2d") {
        client(step.conn).write(fromHex(step.hex))
        continue
      }
      const c = client(step.conn)
      if (step.event === "eof") {
        await c.eof(timeoutMs)
        continue
      }
      if (step.event === "silence") {
        await c.silence((step as { readonly wait_ms?: number }).wait_ms ?? 500)
        continue
      }
      let actual = await readItem(c, step, timeoutMs)
      while (step.decoded?.kind === "message" && targets.extra?.(step.conn, actual) === true) actual = await readItem(c, step, timeoutMs)
      const where = `${fixture.file} ${step.conn}: ${JSON.stringify(step.decoded).slice(0, 120)}`
      if (step.decoded?.kind === "accept" && fixture.file.startsWith("07")) {
        expect(actual.toString("latin1", 5), where).toMatch(INVENTED)
        continue
      }
      expect(maskHex(actual.toString("hex"), step.varying), where).toBe(maskHex(step.hex, step.varying))
      const decoded = step.decoded
      if (decoded?.kind === "message" && decoded.membership !== undefined) {
        const m = decodeDaemonMessage(actual, "")
        if (m._tag !== "Membership" && m._tag !== "Transition") throw new Error(`${where}: not a membership message`)
        // Group ids are compared within one group: the reference gives "chat" and "news" the
        // same triple by accident of its counters (both at index 1 under one ring).
        const gid = `${m.group}|${m.groupId.procId},${m.groupId.time},${m.groupId.index}`
        const label = `${m.group}|${decoded.membership.gid_label}`
        expect(gidByLabel.get(label) ?? gid, `${where}: gid of ${label}`).toBe(gid)
        expect(labelByGid.get(gid) ?? label, `${where}: label of gid ${gid}`).toBe(label)
        gidByLabel.set(label, gid)
        labelByGid.set(gid, label)
      }
    }
  } finally {
    for (const c of clients.values()) c.close()
  }
}
