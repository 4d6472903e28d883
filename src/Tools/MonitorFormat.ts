/**
 * How `spmonitor` shows the daemons' answers (daemon-protocol §10): a block per daemon for a
 * status, one line per daemon for a command, or one JSON object per round. Pure: results in, text
 * out (lines joined with "\n", no trailing newline).
 */
import type { DaemonEntry } from "../Config/Model.js"
import type { StatusReplyFields } from "../Protocol/Ring/Monitor.js"
import type { RoundResult } from "./MonitorSocket.js"

/** Exit statuses a script can test. */
export const EXIT_REFUSED = 2
export const EXIT_NO_REPLY = 3

/** `name` for a configured id, else the id in hex. */
export type NameOf = (id: number) => string

export const nameLookup = (daemons: ReadonlyArray<DaemonEntry>): NameOf => {
  const names = new Map(daemons.map((d) => [d.id, d.name]))
  return (id) => names.get(id) ?? `0x${(id >>> 0).toString(16)}`
}

const thousands = (n: number): string => n.toLocaleString("en-US")

/**
 * `3 h 02 min 05 s`, `2 min 03 s` or `4.2 s`.
 *
 * @example
 * ```ts
 * formatUptime(3_725_000) // "1 h 02 min 05 s"
 * ```
 */
export const formatUptime = (ms: number): string => {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.floor(ms / 1000)
  const two = (n: number) => String(n).padStart(2, "0")
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60]
  return h > 0 ? `${h} h ${two(m)} min ${two(sec)} s` : `${m} min ${two(sec)} s`
}

const where = (d: DaemonEntry): string => `${d.address ?? "?"}:${d.port}`

/** The status block of one daemon. */
export const formatStatus = (s: StatusReplyFields, nameOf: NameOf): ReadonlyArray<string> => {
  const c = s.counters
  const w = s.windows
  return [
    `  state ${s.state}, groups ${s.gstate}, up ${formatUptime(s.uptimeMs)}, version ${s.version}`,
    `  ring ${s.ringId.seq}/${nameOf(s.ringId.rep)}, leader ${s.leaderId === 0 ? "none" : nameOf(s.leaderId)}, ` +
    `${s.members.length} member${s.members.length === 1 ? "" : "s"}: ${s.members.map(nameOf).join(", ")}`,
    `  packets sent ${thousands(c.packetsSent)}, received ${thousands(c.packetsReceived)}, ` +
    `delivered ${thousands(c.packetsDelivered)}, retransmitted ${thousands(c.retransmissionsUnicast)} unicast ` +
    `+ ${thousands(c.retransmissionsMulticast)} multicast`,
    `  aru ${c.aru}, my aru ${c.myAru}, high seq ${c.highSeq}`,
    `  token rotations ${thousands(c.rotations)}, hurries ${thousands(c.tokenHurries)}, ` +
    `retransmissions ${thousands(c.tokenRetransmissions)}`,
    `  messages delivered ${thousands(c.messagesDelivered)}, membership changes ${thousands(c.membershipChanges)}`,
    `  sessions ${s.sessions}, groups ${s.groups}`,
    `  Window ${w.window}, PersonalWindow ${w.personalWindow}, AcceleratedWindow ${w.acceleratedWindow}, ` +
    `accelerated ring ${s.acceleratedRing ? "on" : "off"}`
  ]
}

const noReply = (r: Extract<RoundResult, { _tag: "NoReply" }>, timeoutMs: number): string =>
  r.sendError !== undefined
    ? `no reply (send failed: ${r.sendError})`
    : `no reply within ${timeoutMs} ms (daemon down, or this address or MonitorKey not accepted)`

/** A command's outcome for one daemon, in words. */
const outcomeText = (r: Extract<RoundResult, { _tag: "Reply" }>): string => {
  const { outcome, detail } = r.reply
  switch (outcome) {
    case "STATUS":
    case "ACCEPTED":
      return detail === "" ? "accepted" : `accepted (${detail})`
    case "REFUSED_DANGEROUS":
      return `refused: DangerousMonitor is off in ${r.daemon.name}'s configuration`
    case "REFUSED_INVALID":
      return `refused: ${detail}`
  }
}

const isRefusal = (r: RoundResult): boolean =>
  r._tag === "Reply" && (r.reply.outcome === "REFUSED_DANGEROUS" || r.reply.outcome === "REFUSED_INVALID")

/** A status round: a block per daemon. */
export const formatStatusRound = (results: ReadonlyArray<RoundResult>, nameOf: NameOf, timeoutMs: number): string =>
  results.flatMap((r) => {
    const head = `${r.daemon.name} (id 0x${r.daemon.id.toString(16)}, ${where(r.daemon)})`
    return r._tag === "Reply" ? [head, ...formatStatus(r.reply.status, nameOf)] : [`${head}: ${noReply(r, timeoutMs)}`]
  }).join("\n")

/** A command round: one line per daemon. */
export const formatCommandRound = (what: string, results: ReadonlyArray<RoundResult>, timeoutMs: number): string =>
  results.map((r) => `${r.daemon.name}: ${what} ${r._tag === "Reply" ? outcomeText(r) : noReply(r, timeoutMs)}`).join("\n")

/** A round as one JSON line: per daemon its name, id, address, result and (when it answered) status. */
export const formatJsonRound = (results: ReadonlyArray<RoundResult>): string =>
  JSON.stringify({
    daemons: results.map((r) => ({
      name: r.daemon.name,
      id: r.daemon.id,
      address: where(r.daemon),
      ...(r._tag === "Reply"
        ? { result: r.reply.outcome, detail: r.reply.detail, status: r.reply.status }
        : { result: "NO_REPLY", ...(r.sendError === undefined ? {} : { detail: r.sendError }) })
    }))
  })

/** 0 when every daemon answered and none refused; else {@link EXIT_REFUSED} or {@link EXIT_NO_REPLY}. */
export const exitStatus = (results: ReadonlyArray<RoundResult>): number =>
  results.some(isRefusal) ? EXIT_REFUSED : results.some((r) => r._tag === "NoReply") ? EXIT_NO_REPLY : 0
