/**
 * Our daemon replays every single-daemon golden vector (test/fixtures/README.md, "Our
 * daemon"): each connection's client bytes are written in order, and what comes back must equal
 * the bytes the real Spread 5.0.1 daemon sent, outside the documented varying ranges, which are
 * compared by meaning (group ids by label, invented names by form).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { decodeDaemonMessage } from "../../src/Protocol/index.ts"
import { type D2cStep, type Fixture, fixtureFiles, fromHex, loadFixture, maskHex } from "../Protocol/vectors.ts"
import { type RunningDaemon, startDaemon } from "../support/daemon.ts"
import { RawClient } from "../support/rawClient.ts"

type Transport = { readonly transport?: "tcp" | "unix" }

/** Reads the next item of the kind the vector expects, whatever its length turns out to be. */
const readItem = async (client: RawClient, step: D2cStep): Promise<Buffer> => {
  const kind = step.decoded?.kind
  if (kind === "message") return client.readMessage()
  if (kind === "auth_list") {
    const length = await client.read(1)
    return Buffer.concat([length, await client.read(length[0]!)])
  }
  if (kind === "accept") {
    const withPatch = fromHex(step.hex).length === 5 + fromHex(step.hex)[4]!
    const head = await client.read(withPatch ? 5 : 4)
    return Buffer.concat([head, await client.read(head[head.length - 1]!)])
  }
  return client.read(1)
}

const INVENTED = /^#r\d{1,4}-\d{1,4}#node1$/

const replay = async (fixture: Fixture, daemon: RunningDaemon): Promise<void> => {
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
          const transport = (fixture.connections[step.conn] as Transport).transport
          clients.set(step.conn, await RawClient.connect(transport === "unix" ? { path: daemon.unixPath } : { port: daemon.port }))
        } else if (step.event === "close") client(step.conn).close()
        continue
      }
      if (step.dir === "c2d") {
        client(step.conn).write(fromHex(step.hex))
        continue
      }
      const c = client(step.conn)
      if (step.event === "eof") {
        await c.eof()
        continue
      }
      if (step.event === "silence") {
        await c.silence((step as { readonly wait_ms?: number }).wait_ms ?? 500)
        continue
      }
      const actual = await readItem(c, step)
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

const singleDaemonFiles = fixtureFiles.filter((f) => !f.startsWith("40"))

describe("the daemon replays the Spread 5.0.1 golden vectors", () => {
  let daemon: RunningDaemon
  beforeAll(async () => {
    // Every single-daemon vector was captured with the same spread.conf; ours reads it unchanged.
    daemon = await startDaemon({ name: "node1", config: loadFixture(singleDaemonFiles[0]!).spread_conf })
  })
  afterAll(async () => {
    await daemon.stop()
  })

  for (const file of singleDaemonFiles) {
    it(file, async () => {
      await replay(loadFixture(file), daemon)
    })
  }
})
