/**
 * Clients of daemons running in network namespaces (test/support/netns.ts): connect through a
 * daemon's private /tmp, record everything received, and wait for what a scenario expects.
 */
import { SpreadConnection } from "../../src/Client/index.ts"
import type { SpreadMessage } from "../../src/Client/SpreadClient.ts"
import type { NetnsDaemon, Network } from "../support/netns.ts"

export interface Received {
  readonly at: number
  readonly message: SpreadMessage
}

export interface RecordingClient {
  readonly name: string
  readonly daemon: string
  readonly connection: SpreadConnection
  readonly received: Array<Received>
  readonly privateGroup: string
}

export const connectTo = async (daemon: NetnsDaemon, name: string): Promise<RecordingClient> => {
  const connection = await SpreadConnection.connect({ spreadName: daemon.unixPath, privateName: name, groupMembership: true })
  const received: Array<Received> = []
  connection.on("message", (m) => received.push({ at: performance.now(), message: m }))
  connection.on("membership", (m) => received.push({ at: performance.now(), message: m }))
  return { name, daemon: daemon.name, connection, received, privateGroup: connection.privateGroup }
}

/** Polls `predicate` until it holds; fails with `what` after `timeoutMs`. */
/** After a suite or a test: disconnect every client (ignoring failures), then remove the network. */
export const tearDown = async (clients: ReadonlyArray<RecordingClient>, net: Network | undefined): Promise<void> => {
  for (const c of clients) await c.connection.disconnect().catch(() => undefined)
  await net?.destroy()
}

export const eventually = async (what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const dataOf = (c: RecordingClient) =>
  c.received.flatMap((r) => (r.message._tag === "Data" ? [r.message] : []))

export const viewsOf = (c: RecordingClient, group: string) =>
  c.received.flatMap((r) => (r.message._tag === "Membership" && r.message.group === group ? [r.message] : []))

export const lastView = (c: RecordingClient, group: string) => viewsOf(c, group).at(-1)

/** True when the client's latest view of `group` lists exactly `members` (in any order). */
export const hasView = (c: RecordingClient, group: string, members: ReadonlyArray<RecordingClient>): boolean => {
  const v = lastView(c, group)
  if (v === undefined) return false
  const want = members.map((m) => m.privateGroup).sort()
  return JSON.stringify([...v.members].sort()) === JSON.stringify(want)
}

/**
 * The clients join `group`, each sends `perClient` AGREED messages to it once all see the full
 * view, and every client receives all of them. Returns what each received, in order (the
 * caller compares them).
 */
export const exchangeAgreed = async (
  clients: ReadonlyArray<RecordingClient>,
  group: string,
  perClient: number
): Promise<Array<Array<string>>> => {
  for (const c of clients) await c.connection.join(group)
  await eventually(`the ${clients.length}-member view of ${group} everywhere`, () => clients.every((c) => hasView(c, group, clients)))
  for (const c of clients) {
    for (let k = 0; k < perClient; k++) await c.connection.multicast("agreed", group, k, `${c.name}:${k}`)
  }
  const total = clients.length * perClient
  await eventually(`every message to ${group} everywhere`, () => clients.every((c) => dataOf(c).length >= total))
  return clients.map((c) => dataOf(c).map((m) => m.data.toString()))
}

/** The daemon log shows a regular configuration of exactly these daemons. */
export const ringOf = (names: ReadonlyArray<string>): RegExp =>
  new RegExp(`regular configuration \\(\\d+, \\w+\\): ${names.join(" ")}"`)

/** What the spmonitor tests read of a daemon's status (`spmonitor --json`). */
export interface MonitorStatus {
  readonly daemonName?: string
  readonly state?: string
  readonly members?: ReadonlyArray<number>
  readonly windows?: { readonly window: number }
}

/** The first daemon's status in the last JSON round that `spmonitor --json` printed. */
export const firstStatus = (stdout: string): MonitorStatus => {
  const parsed = JSON.parse(stdout.trim().split("\n").at(-1)!) as unknown
  const list = (Array.isArray(parsed) ? parsed : (parsed as { daemons?: Array<unknown> }).daemons ?? [parsed]) as Array<{ status?: MonitorStatus } & MonitorStatus>
  const entry = list[0]!
  return entry.status ?? entry
}
