/**
 * The configuration model: what a `spread.conf` means once parsed, with every default applied
 * (daemon-protocol §9, §12). The rest of the daemon reads only this, never the text.
 *
 * Plain immutable data described by `effect/Schema`, so a model can be checked with
 * `Schema.is(SpreadConfig)` and compared structurally (the round-trip tests rely on that).
 */
import * as Schema from "effect/Schema"

/** A u32 (daemon ids, hashes). */
const U32 = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0xffff_ffff }))
/** A positive count or a time in milliseconds. */
const Positive = Schema.Int.check(Schema.isGreaterThan(0))
const Port = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65_534 }))

export const IpVersion = Schema.Literals(["IPv4", "IPv6"])
export type IpVersion = typeof IpVersion.Type

/**
 * What an interface of a daemon is used for: `D` daemon ↔ daemon traffic, `C` client
 * connections, `M` monitor packets (Spread's `IFTYPE_DAEMON`, `IFTYPE_CLIENT`,
 * `IFTYPE_MONITOR`).
 */
export const InterfaceRole = Schema.Literals(["D", "C", "M"])
export type InterfaceRole = typeof InterfaceRole.Type

export const Interface = Schema.Struct({
  /** Canonical address; `0.0.0.0` / `::` means every local address. */
  address: Schema.String,
  /** Roles in the order D, C, M; never empty (an interface line without letters has all three). */
  roles: Schema.Array(InterfaceRole)
})
export type Interface = typeof Interface.Type

export const DaemonEntry = Schema.Struct({
  /** The daemon name (≤ 19 characters, client-protocol §1 `MAX_PROC_NAME`). */
  name: Schema.String,
  /**
   * Canonical IP address, or `null` for a name-only entry whose address comes from a name lookup
   * (`resolveConfig`). Every other module may assume a resolved configuration.
   */
  address: Schema.NullOr(Schema.String),
  /** Daemon id (daemon-protocol §2.1): `virtualId`, or the hash of the name. */
  id: U32,
  /** `VirtualID = n` as written, `null` when the id is derived from the name. */
  virtualId: Schema.NullOr(U32),
  /** Position in configuration order, 0 = first daemon of the first segment (§1). */
  rank: Schema.Int,
  /** Index of its segment. */
  segment: Schema.Int,
  /** Its segment's port: data on `port`, tokens on `port + 1` (§9.2), clients on TCP `port`. */
  port: Port,
  /**
   * Interfaces as declared. Empty = no interface stanza: all roles on every local address
   * (Spread's `IFTYPE_ALL | IFTYPE_ANY`).
   */
  interfaces: Schema.Array(Interface)
})
export type DaemonEntry = typeof DaemonEntry.Type

/**
 * How the driver reaches a segment's daemons (§9.2): one datagram to a multicast group or a
 * broadcast address, or a unicast to each (a daemon alone in its segment, `Transport = unicast`,
 * or an IPv6 segment without a multicast address).
 */
export const SegmentKind = Schema.Literals(["multicast", "broadcast", "unicast-only"])
export type SegmentKind = typeof SegmentKind.Type

export const Segment = Schema.Struct({
  /** Canonical segment addresses; the first is the one written with the port. */
  addresses: Schema.Array(Schema.String),
  port: Port,
  kind: SegmentKind,
  /** The segment's daemons in file order (the same objects as in `SpreadConfig.daemons`). */
  daemons: Schema.Array(DaemonEntry)
})
export type Segment = typeof Segment.Type

/** Effective timers in milliseconds, named as in daemon-protocol §6.16. */
export const Timeouts = Schema.Struct({
  /** `TokenTimeout`. */
  tokenLoss: Positive,
  /** `TokenRetransmitTimeout` (ours). */
  tokenRetransmit: Positive,
  /** `HurryTimeout`. */
  tokenHold: Positive,
  /** `JoinTimeout`. */
  join: Positive,
  /** `GatherTimeout`. */
  consensus: Positive,
  /** `FormTimeout`. */
  commit: Positive,
  /** `ProbeInterval` (ours): first probe interval to an absent daemon (§6.12). */
  probeInterval: Positive,
  /** `LookupTimeout`: the probe back-off ceiling (§6.12). */
  probeMax: Positive
})
export type Timeouts = typeof Timeouts.Type

export const Windows = Schema.Struct({
  window: Positive,
  personalWindow: Positive,
  acceleratedWindow: Schema.Int
})
export type Windows = typeof Windows.Type

export const Limits = Schema.Struct({
  maxPacketSize: Positive,
  maxTokenSize: Positive,
  maxMessageSize: Positive,
  maxSeqGap: Positive,
  idleRotationsBeforeHold: Positive,
  maxSessionMessages: Positive,
  maxSessionBytes: Positive,
  maxGroupsStateSize: Positive
})
export type Limits = typeof Limits.Type

/** Spread's event types for `DebugFlags` (Spread `alarm.h`), in our canonical order. */
export const DEBUG_FLAGS = [
  "EXIT",
  "PRINT",
  "DEBUG",
  "DATA_LINK",
  "NETWORK",
  "PROTOCOL",
  "SESSION",
  "CONFIGURATION",
  "MEMBERSHIP",
  "FLOW_CONTROL",
  "STATUS",
  "EVENTS",
  "GROUPS",
  "MEMORY",
  "SKIPLIST",
  "ACM",
  "SECURITY"
] as const
export const DebugFlag = Schema.Literals(DEBUG_FLAGS)
export type DebugFlag = typeof DebugFlag.Type

/** `EventPriority` levels, lowest first (Spread writes the first one `pDEBUG`). */
export const EVENT_PRIORITIES = ["debug", "info", "warning", "error", "critical", "fatal"] as const
export const EventPriority = Schema.Literals(EVENT_PRIORITIES)
export type EventPriority = typeof EventPriority.Type

export const Logging = Schema.Struct({
  /** Enabled event types, in `DEBUG_FLAGS` order. */
  debugFlags: Schema.Array(DebugFlag),
  eventPriority: EventPriority,
  /** Log file pattern (`%h`/`%H` = host name, see `expandEventLogFile`); `null` = stdout. */
  eventLogFile: Schema.NullOr(Schema.String),
  /** strftime format of the time stamp in front of each event; `null` = no time stamps. */
  eventTimeStamp: Schema.NullOr(Schema.String),
  /** Time stamps with sub-second precision. */
  eventPreciseTimeStamp: Schema.Boolean
})
export type Logging = typeof Logging.Type

/** Client authentication methods a daemon knows, in registration order (client-protocol §3.4). */
export const AUTH_METHODS = ["NULL", "IP", "PWORD"] as const
export const AuthMethod = Schema.Literals(AUTH_METHODS)
export type AuthMethod = typeof AuthMethod.Type

export const Access = Schema.Struct({
  /** Methods offered to clients, in registration order (client-protocol §3.4). */
  allowedAuthMethods: Schema.Array(AuthMethod),
  /** Methods every session must pass in addition to the requested ones (§3.5). */
  requiredAuthMethods: Schema.Array(AuthMethod),
  /** The only policy Spread ships: every authenticated session is accepted (§3.6). */
  accessControlPolicy: Schema.Literals(["PERMIT"]),
  /** Allows the monitor's partition, flow-control, reload and kill commands (daemon-protocol §10). */
  dangerousMonitor: Schema.Boolean,
  /** Key of the monitor HMAC (§10); `null` = monitor packets are not authenticated. */
  monitorKey: Schema.NullOr(Schema.String)
})
export type Access = typeof Access.Type

export const Host = Schema.Struct({
  /** State directory for incarnations and ring seqs (§2.2, §6.10.1); `null` = none. */
  runtimeDir: Schema.NullOr(Schema.String),
  /** User and group to switch to when started as root; `null` = not configured. */
  daemonUser: Schema.NullOr(Schema.String),
  daemonGroup: Schema.NullOr(Schema.String),
  /** `SO_REUSEADDR` on the daemon's sockets: `auto` lets the platform default decide. */
  socketPortReuse: Schema.Literals(["auto", "on", "off"]),
  /** Carry on when joining a segment's multicast group fails. */
  ignoreMulticastJoinErrors: Schema.Boolean
})
export type Host = typeof Host.Type

export const SpreadConfig = Schema.Struct({
  segments: Schema.Array(Segment),
  /** Every daemon in rank order. */
  daemons: Schema.Array(DaemonEntry),
  /** `ActiveIPVersion`, or the family of the first segment address. */
  ipVersion: IpVersion,
  /** `WideAreaNetwork`, default: more than one segment. Selects the WAN timer profile (§12.2). */
  wideAreaNetwork: Schema.Boolean,
  /** `AcceleratedRing`, default: not a wide-area network (§5.10). In the hash. */
  acceleratedRing: Schema.Boolean,
  /** `Transport` (ours, §9.2). */
  transport: Schema.Literals(["multicast", "unicast"]),
  /** Leaves segment addresses out of the configuration hash (§9.3). */
  excludeSegAddrsFromHash: Schema.Boolean,
  windows: Windows,
  timeouts: Timeouts,
  limits: Limits,
  logging: Logging,
  access: Access,
  host: Host
})
export type SpreadConfig = typeof SpreadConfig.Type
