/**
 * From what a file says (`RawConfig`) to what it means (`SpreadConfig`): defaults and profiles
 * applied (daemon-protocol §12), ids and ranks derived (§2.1), and every rule that spans more
 * than one token checked, each failure a `ConfigError` at the entry or setting to fix.
 */
import {
  type IpAddress,
  ipVersionOf,
  isMulticast,
  isUnspecified,
  sameAddress,
  unspecifiedAddress,
  withoutScope
} from "./Address.js"
import { checkCommitTokenBound, checkTimeouts, checkWindows } from "./Checks.js"
import { type ConfigWarning, configError, type Position } from "./ConfigError.js"
import type { Located } from "./Cursor.js"
import { daemonIdFromName } from "./DaemonId.js"
import {
  DEFAULT_ACCESS,
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_LOGGING,
  DEFAULT_PORT,
  DEFAULT_TIMESTAMP_FORMAT,
  DEFAULT_WINDOWS,
  LAN_TIMEOUTS,
  MAX_DAEMON_NAME,
  MAX_DAEMONS,
  MAX_PORT,
  TIMEOUT_KEYWORDS,
  WAN_TIMEOUTS
} from "./Defaults.js"
import type {
  Access,
  DaemonEntry,
  Host,
  Interface,
  IpVersion,
  Limits,
  Logging,
  Segment,
  SegmentKind,
  SpreadConfig,
  Timeouts
} from "./Model.js"
import type { RawConfig, RawDaemon, RawSegment } from "./Syntax.js"
import type { RawSettings, SettingName } from "./Settings.js"
import { withSource } from "./Source.js"

/** Legal daemon-name bytes: those of a private name (client-protocol §1), since both end up in `#name#daemon`. */
const LEGAL_NAME = /^[\x24-\x7e]+$/

/** Builds the model of a parsed file. Throws `ConfigError`. */
export const buildConfig = (raw: RawConfig): SpreadConfig => {
  const { file, settings } = raw
  const warnings: Array<ConfigWarning> = [...raw.warnings]
  const warn = (at: Position, text: string): void => {
    warnings.push({ file, line: at.line, column: at.column, text })
  }
  if (raw.segments.length === 0) configError(file, raw.end, "at least one Spread_Segment", "end of file")

  const ipVersion: IpVersion = settings.ActiveIPVersion?.value ?? raw.segments[0]!.address.value.version
  const transport = settings.Transport?.value ?? "multicast"
  const daemons = new DaemonList(file, ipVersion, warn)
  const segments: Array<Segment> = raw.segments.map((segment, index) =>
    buildSegment(file, segment, index, ipVersion, transport, daemons, warn)
  )
  const wideAreaNetwork = settings.WideAreaNetwork?.value ?? segments.length > 1
  const acceleratedRing = settings.AcceleratedRing?.value ?? !wideAreaNetwork

  const windows = pick(settings, DEFAULT_WINDOWS, {
    window: "Window",
    personalWindow: "PersonalWindow",
    acceleratedWindow: "AcceleratedWindow"
  })
  checkWindows(file, settings, windows, acceleratedRing)
  const timeouts = buildTimeouts(settings, wideAreaNetwork, warn)
  checkTimeouts(file, settings, timeouts)
  const limits = buildLimits(settings)
  checkCommitTokenBound(file, settings, daemons.entries.length, windows.window, limits.maxSeqGap)
  const access = buildAccess(settings, warn)

  const config: SpreadConfig = {
    segments,
    daemons: daemons.entries,
    ipVersion,
    wideAreaNetwork,
    acceleratedRing,
    transport,
    excludeSegAddrsFromHash: settings.ExcludeSegAddrsFromHash?.value ?? false,
    windows,
    timeouts,
    limits,
    logging: buildLogging(settings),
    access,
    host: buildHost(settings)
  }
  return withSource(config, { file, daemonAt: daemons.positions, warnings })
}

/** Settings that map one-to-one onto a model field, with the default where the file is silent. */
const pick = <A extends Record<string, unknown>>(
  settings: RawSettings,
  defaults: A,
  names: { readonly [K in keyof A]?: SettingName }
): A => {
  const out: Record<string, unknown> = { ...defaults }
  for (const [key, name] of Object.entries(names) as Array<[string, SettingName]>) {
    const given = settings[name]
    if (given !== undefined) out[key] = given.value
  }
  return out as A
}

const buildSegment = (
  file: string,
  raw: RawSegment,
  index: number,
  ipVersion: IpVersion,
  transport: "multicast" | "unicast",
  daemons: DaemonList,
  warn: (at: Position, text: string) => void
): Segment => {
  const addresses = [raw.address, ...raw.moreAddresses].map((a) => segmentAddress(file, a, ipVersion))
  const port = raw.address.value.port ?? 0
  // config_gram.l accepts port 0 and config_parse.y then uses the default port.
  if (port > MAX_PORT) {
    configError(file, raw.address.at, `a port from 1 to ${MAX_PORT} (tokens use the next port)`, `"${port}"`)
  }
  if (raw.daemons.length === 0) configError(file, raw.at, "at least one daemon in the segment", "an empty segment")
  const effectivePort = port === 0 ? DEFAULT_PORT : port
  const first = addresses[0]!
  if (ipVersion === "IPv6" && !isMulticast(first)) {
    warn(raw.address.at, `IPv6 segment ${first} is not a multicast address: its daemons are reached by unicast`)
  }
  const entries = raw.daemons.map((d) => daemons.add(d, index, effectivePort))
  const kind: SegmentKind =
    transport === "unicast" || entries.length === 1 || (ipVersion === "IPv6" && !isMulticast(first))
      ? "unicast-only"
      : isMulticast(first)
        ? "multicast"
        : "broadcast"
  return { addresses, port: effectivePort, kind, daemons: entries }
}

const segmentAddress = (file: string, a: Located<IpAddress>, ipVersion: IpVersion): string => {
  if (a.value.version !== ipVersion) {
    configError(file, a.at, `an ${ipVersion} segment address (the ActiveIPVersion)`, `"${a.value.address}"`)
  }
  if (isUnspecified(a.value.address)) {
    configError(file, a.at, "a broadcast or multicast segment address", `"${a.value.address}"`)
  }
  return a.value.address
}

/** Daemons in rank order, with the uniqueness rules of config_parse.y (names, ids, address + port). */
class DaemonList {
  readonly entries: Array<DaemonEntry> = []
  readonly positions = new Map<string, Position>()

  constructor(
    private readonly file: string,
    private readonly ipVersion: IpVersion,
    private readonly warn: (at: Position, text: string) => void
  ) {}

  add(raw: RawDaemon, segment: number, port: number): DaemonEntry {
    const { file } = this
    if (this.entries.length === MAX_DAEMONS) {
      configError(file, raw.at, `at most ${MAX_DAEMONS} daemons in a configuration`, `daemon ${MAX_DAEMONS + 1}, "${raw.at.text}"`)
    }
    const name = this.nameOf(raw)
    const address = raw.address === null ? null : checkDaemonAddress(file, raw.address, this.ipVersion)
    const id = raw.virtualId?.value ?? daemonIdFromName(name)
    for (const other of this.entries) {
      const otherLine = this.positions.get(other.name)!.line
      if (other.name === name) {
        configError(file, raw.at, `a daemon name not used before (line ${otherLine})`, `"${name}"`)
      }
      if (other.id === id) {
        configError(
          file,
          raw.virtualId?.at ?? raw.at,
          `a daemon id not used before (line ${otherLine}, "${other.name}"); set a VirtualID`,
          `id ${id} of "${name}"`
        )
      }
      if (address !== null && other.address !== null && other.port === port && sameAddress(address, other.address)) {
        configError(
          file,
          raw.address!.at,
          `an address and port not used before (line ${otherLine}, "${other.name}")`,
          `"${address}" port ${port}`
        )
      }
    }
    const interfaces = (raw.interfaces ?? []).map(
      (i): Interface => ({ roles: i.roles, address: interfaceAddress(file, i.address, this.ipVersion) })
    )
    const entry: DaemonEntry = {
      name,
      address,
      id,
      virtualId: raw.virtualId?.value ?? null,
      rank: this.entries.length,
      segment,
      port,
      interfaces
    }
    this.positions.set(name, { line: raw.at.line, column: raw.at.column })
    if (address !== null) checkDaemonInterfaces(file, raw.at, entry)
    this.entries.push(entry)
    return entry
  }

  /**
   * The written name, or for an address-only entry the address as written without its
   * `%scope`; cut to 19 characters as Spread does (config_parse.y, `set_daemon_name_and_addr`).
   */
  private nameOf(raw: RawDaemon): string {
    const written = raw.name?.value ?? withoutScope(raw.at.text)
    const at = raw.name?.at ?? raw.at
    if (!LEGAL_NAME.test(written)) {
      configError(this.file, at, "a daemon name of printable ASCII characters without spaces, quotes or #", `"${written}"`)
    }
    if (written.length <= MAX_DAEMON_NAME) return written
    const name = written.slice(0, MAX_DAEMON_NAME)
    this.warn(at, `daemon name "${written}" is longer than ${MAX_DAEMON_NAME} characters; it is "${name}"`)
    return name
  }
}

const checkDaemonAddress = (file: string, a: Located<IpAddress>, ipVersion: IpVersion): string => {
  const { address, version } = a.value
  if (version !== ipVersion) configError(file, a.at, `an ${ipVersion} daemon address (the ActiveIPVersion)`, `"${address}"`)
  if (isUnspecified(address)) configError(file, a.at, "a daemon address, not the unspecified address", `"${address}"`)
  if (isMulticast(address)) configError(file, a.at, "a daemon's own address, not a multicast address", `"${address}"`)
  return address
}

const interfaceAddress = (file: string, a: Located<IpAddress>, ipVersion: IpVersion): string => {
  if (a.value.version !== ipVersion) {
    configError(file, a.at, `an ${ipVersion} interface address (the ActiveIPVersion)`, `"${a.value.address}"`)
  }
  return a.value.address
}

/**
 * An interface stanza must let the daemon talk to daemons on its own address: a `D` (or
 * letter-less) interface on that address or on the unspecified address (config_parse.y,
 * `Daemonparam`). Also run by `resolveConfig` once a name-only entry has its address.
 */
export const checkDaemonInterfaces = (file: string, at: Position, daemon: DaemonEntry): void => {
  if (daemon.interfaces.length === 0 || daemon.address === null) return
  const wildcard = unspecifiedAddress(ipVersionOf(daemon.address))
  const ok = daemon.interfaces.some(
    (i) => i.roles.includes("D") && (sameAddress(i.address, daemon.address!) || i.address === wildcard)
  )
  if (!ok) {
    configError(
      file,
      at,
      `an interface with role D on ${daemon.address} or ${wildcard} in the interfaces of "${daemon.name}"`,
      "none"
    )
  }
}

/** Spread-only timers we do not run (daemon-protocol §6.16); accepted so that Spread files load. */
const IGNORED_TIMEOUTS: ReadonlyArray<SettingName> = ["AliveTimeout", "SegTimeout", "RepTimeout"]

const TIMEOUT_SETTINGS: { readonly [K in keyof Timeouts]: SettingName } = TIMEOUT_KEYWORDS

/** The profile `WideAreaNetwork` selects (§12.2), overridden by any timeouts the file sets (§9.4). */
const buildTimeouts = (
  settings: RawSettings,
  wideAreaNetwork: boolean,
  warn: (at: Position, text: string) => void
): Timeouts => {
  for (const name of IGNORED_TIMEOUTS) {
    const given = settings[name]
    if (given !== undefined) warn(given.at, `${name} is accepted and ignored: our membership protocol has no such timer`)
  }
  return pick(settings, wideAreaNetwork ? WAN_TIMEOUTS : LAN_TIMEOUTS, TIMEOUT_SETTINGS)
}

const buildLimits = (settings: RawSettings): Limits => {
  const limits = pick(settings, DEFAULT_LIMITS, {
    maxPacketSize: "MaxPacketSize",
    maxMessageSize: "MaxMessageSize",
    maxSeqGap: "MaxSeqGap",
    idleRotationsBeforeHold: "IdleRotationsBeforeHold",
    maxSessionMessages: "MaxSessionMessages",
    maxSessionBytes: "MaxSessionBytes",
    maxGroupsStateSize: "MaxGroupsStateSize"
  })
  return { ...limits, maxTokenSize: settings.MaxTokenSize?.value ?? limits.maxPacketSize }
}

const buildLogging = (settings: RawSettings): Logging => {
  const stamp = settings.EventTimeStamp
  return {
    ...pick(settings, DEFAULT_LOGGING, {
      debugFlags: "DebugFlags",
      eventPriority: "EventPriority",
      eventLogFile: "EventLogFile",
      eventPreciseTimeStamp: "EventPreciseTimeStamp"
    }),
    eventTimeStamp: stamp === undefined ? null : (stamp.value ?? DEFAULT_TIMESTAMP_FORMAT)
  }
}

/**
 * client-protocol §3.4: setting either auth list first disables `NULL`; `AllowedAuthMethods`
 * then enables its methods; `RequiredAuthMethods` only marks methods as required.
 */
const buildAccess = (settings: RawSettings, warn: (at: Position, text: string) => void): Access => {
  const allowed = settings.AllowedAuthMethods
  const required = settings.RequiredAuthMethods
  const configured = allowed !== undefined || required !== undefined
  const access: Access = {
    ...pick(settings, DEFAULT_ACCESS, {
      accessControlPolicy: "AccessControlPolicy",
      dangerousMonitor: "DangerousMonitor",
      monitorKey: "MonitorKey"
    }),
    allowedAuthMethods: configured ? (allowed?.value ?? []) : DEFAULT_ACCESS.allowedAuthMethods,
    requiredAuthMethods: required?.value ?? []
  }
  const at = (allowed ?? required)?.at
  if (at !== undefined && access.allowedAuthMethods.length === 0) {
    warn(at, "no authentication method is allowed: every client will be refused")
  }
  const notAllowed = access.requiredAuthMethods.filter((m) => !access.allowedAuthMethods.includes(m))
  if (required !== undefined && notAllowed.length > 0) {
    warn(required.at, `required methods ${notAllowed.join(", ")} are not allowed: every client will be refused`)
  }
  return access
}

const buildHost = (settings: RawSettings): Host =>
  pick(settings, DEFAULT_HOST, {
    runtimeDir: "RuntimeDir",
    daemonUser: "DaemonUser",
    daemonGroup: "DaemonGroup",
    socketPortReuse: "SocketPortReuse",
    ignoreMulticastJoinErrors: "IgnoreMulticastJoinErrors"
  })
