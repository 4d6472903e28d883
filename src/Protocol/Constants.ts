/**
 * Constants of the Spread client ↔ daemon protocol (client-protocol.md §1, §4.3, §9).
 * Values are the wire's; names are Spread's own.
 */

/** Default daemon port, for TCP and for the Unix socket path (§1). */
export const DEFAULT_SPREAD_PORT = 4803
/** Width of every group / private-group name field, NUL included (§1). */
export const MAX_GROUP_NAME = 32
/** Longest private name, no NUL (§1). */
export const MAX_PRIVATE_NAME = 10
/** Daemon name buffer, NUL included: the longest daemon name is 19 characters (§1). */
export const MAX_PROC_NAME = 20
/** Width of one auth-method slot and the number of slots: the choice block is 90 bytes (§3.5). */
export const MAX_AUTH_NAME = 30
export const MAX_AUTH_METHODS = 3
export const AUTH_CHOICE_LENGTH = MAX_AUTH_NAME * MAX_AUTH_METHODS
/** Largest `num_groups` a daemon accepts from a client (§5.3). */
export const MAX_GROUPS_PER_MESSAGE = 100
/** Nominal body limit used by the daemon's checks (§1, §5.3). */
export const MAX_MESSAGE_BODY_LEN = 144_000
/** `data_len + 32·num_groups` bound of the daemon's validation (§5.3). */
export const MAX_DATA_PLUS_GROUPS = 143_952
/**
 * What a client may send to a reference daemon without crashing it (§1, §12 item 1):
 * data + 32·groups ≤ 143151. Our client enforces this so it is safe against C daemons too.
 */
export const SAFE_DATA_PLUS_GROUPS = 143_151
/** Connections per daemon, as the reference (§1). */
export const MAX_SESSIONS = 997
/** Slow-client bound in whole messages (§8.6). */
export const DEFAULT_MAX_SESSION_MESSAGES = 1000
/** Unix socket directory (§2.1). */
export const SP_UNIX_SOCKET = "/tmp"

/** Header size of every message after the handshake (§4.1). */
export const HEADER_LENGTH = 48

/** Endian flag: bits 31 and 7, set by little-endian writers (§4.2). */
export const ENDIAN_TYPE = 0x80000080

// Service-type bits (§4.3).
export const UNRELIABLE_MESS = 0x00000001
export const RELIABLE_MESS = 0x00000002
export const FIFO_MESS = 0x00000004
export const CAUSAL_MESS = 0x00000008
export const AGREED_MESS = 0x00000010
export const SAFE_MESS = 0x00000020
export const REGULAR_MESS = 0x0000003f
export const SELF_DISCARD = 0x00000040
export const CAUSED_BY_JOIN = 0x00000100
export const CAUSED_BY_LEAVE = 0x00000200
export const CAUSED_BY_DISCONNECT = 0x00000400
export const CAUSED_BY_NETWORK = 0x00000800
export const REG_MEMB_MESS = 0x00001000
export const TRANSITION_MESS = 0x00002000
export const MEMBERSHIP_MESS = 0x00003f00
export const JOIN_MESS = 0x00010000
export const LEAVE_MESS = 0x00020000
export const KILL_MESS = 0x00040000
export const REJECT_MESS = 0x00400000
export const DROP_RECV = 0x01000000

/** The bits of `hint` a client may set: the flag and the 16-bit mess_type (§4.4). */
export const HINT_ALLOWED = 0x80ffff80

/** Handshake reply bytes (§3.9), as signed values. */
export const ACCEPT_SESSION = 1
export const REJECT_QUOTA = -3
export const REJECT_NO_NAME = -4
export const REJECT_ILLEGAL_NAME = -5
export const REJECT_NOT_UNIQUE = -6
export const REJECT_VERSION = -7
export const REJECT_AUTH = -9

/** The version our daemon announces and our client sends (§13 items 1–2). */
export const SPREAD_VERSION = { major: 5, minor: 0, patch: 1 } as const

/** Legal private-name bytes: `$` to `~` (§1, character rules). */
export const isLegalNameByte = (b: number): boolean => b >= 0x24 && b <= 0x7e

/** `sp.h` predicates (§4.3). */
export const isRegularMessage = (serviceType: number): boolean =>
  (serviceType & REGULAR_MESS) !== 0 && (serviceType & REJECT_MESS) === 0
export const isMembershipMessage = (serviceType: number): boolean =>
  (serviceType & MEMBERSHIP_MESS) !== 0 && (serviceType & REJECT_MESS) === 0
export const isSelfLeave = (serviceType: number): boolean =>
  (serviceType & CAUSED_BY_LEAVE) !== 0 && (serviceType & (REG_MEMB_MESS | TRANSITION_MESS)) === 0
export const isRejectMessage = (serviceType: number): boolean => (serviceType & REJECT_MESS) !== 0

/** Exactly one bit of `mask` set in `value`. */
export const hasOneBitOf = (value: number, mask: number): boolean => {
  const bits = value & mask
  return bits !== 0 && (bits & (bits - 1)) === 0
}
