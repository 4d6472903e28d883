/**
 * Defaults and limits of the configuration (daemon-protocol §9, §12), each with its reason.
 */
import type { Access, Host, Limits, Logging, Timeouts, Windows } from "./Model.js"

/** Segment port when none is written (client-protocol §1 `DEFAULT_SPREAD_PORT`). */
export const DEFAULT_PORT = 4803
/** Highest segment port: tokens use `port + 1` (daemon-protocol §9.2). */
export const MAX_PORT = 65_534
/** Longest daemon name, without its NUL (client-protocol §1 `MAX_PROC_NAME` − 1). */
export const MAX_DAEMON_NAME = 19
/** Daemons per configuration (daemon-protocol §12.1; Spread's `MAX_PROCS_RING`). */
export const MAX_DAEMONS = 128
/** Largest UDP payload over IPv4: the bound for every datagram we send (§4.8). */
export const MAX_DATAGRAM = 65_507
/**
 * Smallest packet and token size we accept: every IPv4 path carries 576-byte datagrams, i.e.
 * 548 bytes of UDP payload (RFC 791, RFC 768); smaller buys nothing and starves fragments.
 */
export const MIN_PACKET_SIZE = 548
/** `MaxMessageSize` ceiling (daemon-protocol §4.3, §12.1). */
export const MAX_MESSAGE_SIZE = 64 * 1024 * 1024
/** Windows travel as i16 in `MON_FLOW_CONTROL` (daemon-protocol §10). */
export const MAX_WINDOW = 32_767
/** The token's `idle` counter is a u8 that saturates at 255 (daemon-protocol §4.5). */
export const MAX_IDLE_ROTATIONS = 255
/** Daemon ids are u32 and 0 / 0xFFFFFFFF are reserved (daemon-protocol §2.1). */
export const MAX_VIRTUAL_ID = 0xffff_fffe
/** Spread's limits on these strings (configuration.c, `Conf_set_user`, `Conf_set_group`). */
export const MAX_USER_NAME = 32
/** Spread's default time-stamp format (`docs/sample.spread.conf`). */
export const DEFAULT_TIMESTAMP_FORMAT = "[%a %d %b %Y %H:%M:%S]"
/** Our daemon ↔ daemon wire version (daemon-protocol §4.1), part of the configuration hash (§9.3). */
export const DAEMON_PROTOCOL_VERSION = 1

export const DEFAULT_WINDOWS: Windows = { window: 160, personalWindow: 20, acceleratedWindow: 15 }

/** §12.1. `maxTokenSize` defaults to the effective `maxPacketSize` (§4.5). */
export const DEFAULT_LIMITS: Omit<Limits, "maxTokenSize"> = {
  maxPacketSize: 1472,
  maxMessageSize: 1024 * 1024,
  maxSeqGap: 1600,
  idleRotationsBeforeHold: 2,
  maxSessionMessages: 1000,
  maxSessionBytes: 64 * 1024 * 1024,
  maxGroupsStateSize: 16 * 1024 * 1024
}

/** Timer profiles of daemon-protocol §12.2; `WideAreaNetwork` chooses between them. */
export const LAN_TIMEOUTS: Timeouts = {
  tokenLoss: 1250,
  tokenRetransmit: 100,
  tokenHold: 500,
  join: 250,
  consensus: 1250,
  commit: 1250,
  probeInterval: 1000,
  probeMax: 30_000
}
export const WAN_TIMEOUTS: Timeouts = {
  tokenLoss: 5000,
  tokenRetransmit: 300,
  tokenHold: 1500,
  join: 250,
  consensus: 2500,
  commit: 2500,
  probeInterval: 1000,
  probeMax: 45_000
}

/**
 * Our fast profile for a LAN (README "Timeouts"): the LAN timers cut to a fifth or a little more,
 * for a crash to show as a new membership within half a second. It is not a keyword: it is these standard
 * settings ({@link fastProfileSettings}), so the same file still loads in a C Spread daemon.
 */
export const FAST_TIMEOUTS: Timeouts = {
  tokenLoss: 200,
  tokenRetransmit: 20,
  tokenHold: 100,
  join: 50,
  consensus: 200,
  commit: 200,
  probeInterval: 200,
  probeMax: 30_000
}

/** The spread.conf keyword of each timer (§9.4). */
export const TIMEOUT_KEYWORDS = {
  tokenLoss: "TokenTimeout",
  tokenRetransmit: "TokenRetransmitTimeout",
  tokenHold: "HurryTimeout",
  join: "JoinTimeout",
  consensus: "GatherTimeout",
  commit: "FormTimeout",
  probeInterval: "ProbeInterval",
  probeMax: "LookupTimeout"
} as const satisfies { readonly [K in keyof Timeouts]: string }

/** The spread.conf lines that select {@link FAST_TIMEOUTS}. */
export const fastProfileSettings = (): string =>
  (Object.keys(TIMEOUT_KEYWORDS) as Array<keyof Timeouts>).map((k) => `${TIMEOUT_KEYWORDS[k]} = ${FAST_TIMEOUTS[k]}`).join("\n")

/** Spread's: PRINT and EXIT events at priority INFO, to stdout, without time stamps. */
export const DEFAULT_LOGGING: Logging = {
  debugFlags: ["EXIT", "PRINT"],
  eventPriority: "info",
  eventLogFile: null,
  eventTimeStamp: null,
  eventPreciseTimeStamp: false
}

/** Only `NULL` authentication, the `PERMIT` policy (client-protocol §3.4, §3.6). */
export const DEFAULT_ACCESS: Access = {
  allowedAuthMethods: ["NULL"],
  requiredAuthMethods: [],
  accessControlPolicy: "PERMIT",
  dangerousMonitor: false,
  monitorKey: null
}

export const DEFAULT_HOST: Host = {
  runtimeDir: null,
  daemonUser: null,
  daemonGroup: null,
  socketPortReuse: "auto",
  ignoreMulticastJoinErrors: false
}
