/**
 * A configuration back to `spread.conf` text, every effective value written out, so that
 * `parseConfig(printConfig(c))` equals `c` (the round-trip property of test/Config).
 */
import { formatAddressWithPort, looksLikeIpAddress } from "./Address.js"
import type { DaemonEntry, Segment, SpreadConfig } from "./Model.js"

/** A word the scanner reads back as itself, and not as an address or a keyword. */
const isPlainWord = (s: string): boolean =>
  /^[^\s#{}=;"'!]+$/.test(s) && !looksLikeIpAddress(s) && !/^(virtualid|spread_segment)$/i.test(s)

/** `s` as one token: bare when that is safe, else in quotes (values never hold both kinds). */
export const quoteIfNeeded = (s: string): string =>
  isPlainWord(s) ? s : s.includes('"') ? `'${s}'` : `"${s}"`

const daemonLine = (d: DaemonEntry): string => {
  const parts =
    d.address === null
      ? [quoteIfNeeded(d.name)]
      : d.name === d.address
        ? [d.address]
        : [quoteIfNeeded(d.name), d.address]
  if (d.virtualId !== null) parts.push(`VirtualID = ${d.virtualId}`)
  if (d.interfaces.length > 0) {
    parts.push(`{ ${d.interfaces.map((i) => `${i.roles.join(" ")} ${i.address}`).join("  ")} }`)
  }
  // A name-only entry followed by an address-only one would read as one daemon (config_parse.y).
  return `    ${parts.join(" ")}${d.address === null ? ";" : ""}`
}

const segmentBlock = (s: Segment): string => {
  const [first, ...more] = s.addresses
  const head = [formatAddressWithPort(first!, s.port), ...more].join(" ")
  return [`Spread_Segment ${head} {`, ...s.daemons.map(daemonLine), "}"].join("\n")
}

const PRIORITY_WORD = { debug: "pDEBUG", info: "INFO", warning: "WARNING", error: "ERROR", critical: "CRITICAL", fatal: "FATAL" }

const settingLines = (c: SpreadConfig): Array<string> => {
  const { windows: w, timeouts: t, limits: l, logging: g, access: a, host: h } = c
  const lines = [
    `ActiveIPVersion = ${c.ipVersion}`,
    `WideAreaNetwork = ${c.wideAreaNetwork}`,
    `AcceleratedRing = ${c.acceleratedRing}`,
    `Transport = ${c.transport}`,
    `ExcludeSegAddrsFromHash = ${c.excludeSegAddrsFromHash}`,
    `Window = ${w.window}`,
    `PersonalWindow = ${w.personalWindow}`,
    `AcceleratedWindow = ${w.acceleratedWindow}`,
    `TokenTimeout = ${t.tokenLoss}`,
    `TokenRetransmitTimeout = ${t.tokenRetransmit}`,
    `HurryTimeout = ${t.tokenHold}`,
    `JoinTimeout = ${t.join}`,
    `GatherTimeout = ${t.consensus}`,
    `FormTimeout = ${t.commit}`,
    `ProbeInterval = ${t.probeInterval}`,
    `LookupTimeout = ${t.probeMax}`,
    `MaxPacketSize = ${l.maxPacketSize}`,
    `MaxTokenSize = ${l.maxTokenSize}`,
    `MaxMessageSize = ${l.maxMessageSize}`,
    `MaxSeqGap = ${l.maxSeqGap}`,
    `IdleRotationsBeforeHold = ${l.idleRotationsBeforeHold}`,
    `MaxSessionMessages = ${l.maxSessionMessages}`,
    `MaxSessionBytes = ${l.maxSessionBytes}`,
    `MaxGroupsStateSize = ${l.maxGroupsStateSize}`,
    `DebugFlags = { ${g.debugFlags.length === 0 ? "NONE" : g.debugFlags.join(" ")} }`,
    `EventPriority = ${PRIORITY_WORD[g.eventPriority]}`
  ]
  if (g.eventLogFile !== null) lines.push(`EventLogFile = ${quoteIfNeeded(g.eventLogFile)}`)
  if (g.eventTimeStamp !== null) lines.push(`EventTimeStamp = ${quoteIfNeeded(g.eventTimeStamp)}`)
  if (g.eventPreciseTimeStamp) lines.push("EventPreciseTimeStamp")
  const defaultAuth = a.requiredAuthMethods.length === 0 && a.allowedAuthMethods.join(" ") === "NULL"
  if (!defaultAuth) lines.push(`AllowedAuthMethods = "${a.allowedAuthMethods.join(" ")}"`)
  if (a.requiredAuthMethods.length > 0) lines.push(`RequiredAuthMethods = "${a.requiredAuthMethods.join(" ")}"`)
  lines.push(`AccessControlPolicy = ${a.accessControlPolicy}`, `DangerousMonitor = ${a.dangerousMonitor}`)
  if (a.monitorKey !== null) lines.push(`MonitorKey = ${quoteIfNeeded(a.monitorKey)}`)
  if (h.runtimeDir !== null) lines.push(`RuntimeDir = ${quoteIfNeeded(h.runtimeDir)}`)
  if (h.daemonUser !== null) lines.push(`DaemonUser = ${quoteIfNeeded(h.daemonUser)}`)
  if (h.daemonGroup !== null) lines.push(`DaemonGroup = ${quoteIfNeeded(h.daemonGroup)}`)
  lines.push(`SocketPortReuse = ${h.socketPortReuse}`, `IgnoreMulticastJoinErrors = ${h.ignoreMulticastJoinErrors}`)
  return lines
}

/**
 * `spread.conf` text for `config`.
 *
 * @example
 * printConfig(defaultConfig({ name: "node1" }))
 * // "ActiveIPVersion = IPv4\n…\nSpread_Segment 127.0.0.255:4803 {\n    node1 127.0.0.1\n}\n"
 */
export const printConfig = (config: SpreadConfig): string =>
  [...settingLines(config), "", ...config.segments.map(segmentBlock)].join("\n") + "\n"
