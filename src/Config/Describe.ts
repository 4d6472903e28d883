/**
 * The human-readable summary `--check-config` prints and the daemon logs at start-up: daemons
 * with ids and ranks, segments, effective timers and limits, the configuration hash, warnings.
 */
import { formatAddressWithPort } from "./Address.js"
import { formatWarning } from "./ConfigError.js"
import { configHash } from "./Hash.js"
import type { DaemonEntry, SpreadConfig } from "./Model.js"
import { configWarnings } from "./Source.js"

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, "0")}`

const daemonLine = (d: DaemonEntry): string => {
  const interfaces =
    d.interfaces.length === 0
      ? "all roles on every address"
      : d.interfaces.map((i) => `${i.roles.join("")} ${i.address}`).join(", ")
  const id = `${hex32(d.id)} (${d.id}${d.virtualId === null ? ", from the name" : ", VirtualID"})`
  return `    rank ${d.rank}  ${d.name.padEnd(19)}  ${d.address ?? "(address by name lookup)"}  id ${id}  interfaces: ${interfaces}`
}

/**
 * @example
 * console.log(describeConfig(yield* loadConfig("spread.conf")))
 */
export const describeConfig = (config: SpreadConfig): string => {
  const { windows: w, timeouts: t, limits: l, logging: g, access: a, host: h } = config
  const resolved = config.daemons.every((d) => d.address !== null)
  const hash = resolved ? configHash(config) : null
  const lines = [
    `Configuration hash ${hash === null ? "(unknown until every name is resolved)" : `${hex32(hash)} (${hash})`}`,
    `${config.segments.length} segment(s), ${config.daemons.length} daemon(s), ${config.ipVersion}, ` +
      `${config.wideAreaNetwork ? "wide-area (WAN) profile" : "local-area (LAN) profile"}, ` +
      `${config.acceleratedRing ? "accelerated ring" : "original ring"}, transport ${config.transport}`
  ]
  config.segments.forEach((s, i) => {
    lines.push(`  Segment ${i}: ${s.addresses.map((x) => formatAddressWithPort(x, s.port)).join(" ")} (${s.kind})`)
    lines.push(...s.daemons.map(daemonLine))
  })
  lines.push(
    `  Windows: Window ${w.window}, PersonalWindow ${w.personalWindow}, AcceleratedWindow ${w.acceleratedWindow}`,
    `  Timeouts (ms): TokenTimeout ${t.tokenLoss}, TokenRetransmitTimeout ${t.tokenRetransmit}, ` +
      `HurryTimeout ${t.tokenHold}, JoinTimeout ${t.join}, GatherTimeout ${t.consensus}, FormTimeout ${t.commit}, ` +
      `ProbeInterval ${t.probeInterval}, LookupTimeout ${t.probeMax}`,
    `  Limits: MaxPacketSize ${l.maxPacketSize}, MaxTokenSize ${l.maxTokenSize}, MaxMessageSize ${l.maxMessageSize}, ` +
      `MaxSeqGap ${l.maxSeqGap}, IdleRotationsBeforeHold ${l.idleRotationsBeforeHold}`,
    `  Sessions: MaxSessionMessages ${l.maxSessionMessages}, MaxSessionBytes ${l.maxSessionBytes}, ` +
      `MaxGroupsStateSize ${l.maxGroupsStateSize}`,
    `  Clients: AllowedAuthMethods ${a.allowedAuthMethods.join(" ") || "(none)"}, ` +
      `RequiredAuthMethods ${a.requiredAuthMethods.join(" ") || "(none)"}, AccessControlPolicy ${a.accessControlPolicy}`,
    `  Monitor: DangerousMonitor ${a.dangerousMonitor}, MonitorKey ${a.monitorKey === null ? "(none)" : "(set)"}`,
    `  Logging: DebugFlags { ${g.debugFlags.join(" ") || "NONE"} }, EventPriority ${g.eventPriority}, ` +
      `EventLogFile ${g.eventLogFile ?? "(stdout)"}, EventTimeStamp ${g.eventTimeStamp ?? "(off)"}` +
      `${g.eventPreciseTimeStamp ? " (precise)" : ""}`,
    `  Host: RuntimeDir ${h.runtimeDir ?? "(none)"}, DaemonUser ${h.daemonUser ?? "(not set)"}, ` +
      `DaemonGroup ${h.daemonGroup ?? "(not set)"}, SocketPortReuse ${h.socketPortReuse}, ` +
      `IgnoreMulticastJoinErrors ${h.ignoreMulticastJoinErrors}, ExcludeSegAddrsFromHash ${config.excludeSegAddrsFromHash}`,
    ...configWarnings(config).map(formatWarning)
  )
  return lines.join("\n") + "\n"
}
