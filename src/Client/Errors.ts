/**
 * The `sp.h` error codes (client-protocol §9), one tagged error class each. Every instance
 * carries the numeric `code` libspread would return and its `sp.h` name in `codeName`, so code
 * ported from C can still switch on the numbers.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SpreadClient } from "spread-ts/Client"
 *
 * const program = SpreadClient.use((client) => client.join("chat")).pipe(
 *   Effect.catchTag("IllegalGroup", (e) => Effect.logWarning(`join refused (${e.code}): ${e.reason}`))
 * )
 * ```
 */
import type * as Cause from "effect/Cause"
import * as Data from "effect/Data"

/** The instance side shared by every error class here. */
export interface SpreadErrorShape<Tag extends string, Name extends string, Code extends number> extends Cause.YieldableError {
  readonly _tag: Tag
  /** What went wrong, in words. */
  readonly reason: string
  /** The `sp.h` value, as `SP_*` functions return it. */
  readonly code: Code
  /** The `sp.h` name, for logs. */
  readonly codeName: Name
}

/** The constructor of one error class; the class also carries its `code`. */
export interface SpreadErrorClass<Tag extends string, Name extends string, Code extends number> {
  new(args: { readonly reason: string }): SpreadErrorShape<Tag, Name, Code>
  readonly code: Code
}

/** Builds one error class: a `Data.TaggedError` with a human `reason` and the C code. */
const spreadError = <Tag extends string, Name extends string, Code extends number>(
  tag: Tag,
  codeName: Name,
  code: Code
): SpreadErrorClass<Tag, Name, Code> =>
  class extends Data.TaggedError(tag)<{ readonly reason: string }> {
    static readonly code: Code = code
    readonly code: Code = code
    readonly codeName: Name = codeName
    override get message(): string {
      return `${codeName} (${code}): ${this.reason}`
    }
  }

/** −1: a malformed `spread_name`, or a host name that does not resolve (§2.2). */
export class IllegalSpread extends spreadError("IllegalSpread", "ILLEGAL_SPREAD", -1) {}
/** −2: the socket could not be opened or connected (nothing listens, resolver failure) (§2.2). */
export class CouldNotConnect extends spreadError("CouldNotConnect", "COULD_NOT_CONNECT", -2) {}
/** −3: the daemon already serves its maximum of sessions (§3.9). */
export class RejectQuota extends spreadError("RejectQuota", "REJECT_QUOTA", -3) {}
/** −4: defined by `sp.h`; reference daemons never send it, but a daemon could (§3.9). */
export class RejectNoName extends spreadError("RejectNoName", "REJECT_NO_NAME", -4) {}
/** −5: the daemon refused the private name: too long or an illegal character (§3.3). */
export class RejectIllegalName extends spreadError("RejectIllegalName", "REJECT_ILLEGAL_NAME", -5) {}
/** −6: another session on this daemon uses the private name (§3.3). */
export class RejectNotUnique extends spreadError("RejectNotUnique", "REJECT_NOT_UNIQUE", -6) {}
/** −7: the daemon refused our version, or the daemon is older than 3.0 (§3.7, §3.9). */
export class RejectVersion extends spreadError("RejectVersion", "REJECT_VERSION", -7) {}
/** −8: EOF, I/O error or timeout while connecting, sending or receiving. Marks the session failed. */
export class ConnectionClosed extends spreadError("ConnectionClosed", "CONNECTION_CLOSED", -8) {}
/** −9: authentication failed, or the daemon does not offer our method (§3.5, §3.9). */
export class RejectAuth extends spreadError("RejectAuth", "REJECT_AUTH", -9) {}
/** −11: the session was already disconnected. */
export class IllegalSession extends spreadError("IllegalSession", "ILLEGAL_SESSION", -11) {}
/** −12: a multicast whose service has no bit in `0x3F`, or more than one (§5.1, §5.3 item 1). */
export class IllegalService extends spreadError("IllegalService", "ILLEGAL_SERVICE", -12) {}
/** −13: the daemon sent something that cannot be framed or decoded; the session is closed (§12 item 7). */
export class IllegalMessage extends spreadError("IllegalMessage", "ILLEGAL_MESSAGE", -13) {}
/** −14: a bad group name for join/leave (1..31 bytes in 36..126), or a bad destination list (§1, §12 item 8). */
export class IllegalGroup extends spreadError("IllegalGroup", "ILLEGAL_GROUP", -14) {}
/** −15: `sp.h` short-buffer result. This client has no caller buffers, so nothing returns it. */
export class BufferTooShort extends spreadError("BufferTooShort", "BUFFER_TOO_SHORT", -15) {}
/** −16: `sp.h` short-groups result. This client has no caller arrays, so nothing returns it. */
export class GroupsTooShort extends spreadError("GroupsTooShort", "GROUPS_TOO_SHORT", -16) {}
/** −17: data + 32·groups exceeds 143151 bytes, the most a reference daemon survives (§1, §12 item 1). */
export class MessageTooLong extends spreadError("MessageTooLong", "MESSAGE_TOO_LONG", -17) {}
/** −18: the session failed earlier (its error was already reported); disconnect it. */
export class NetErrorOnSession extends spreadError("NetErrorOnSession", "NET_ERROR_ON_SESSION", -18) {}
/** −19: an internal inconsistency of the client library. */
export class SpBug extends spreadError("SpBug", "SP_BUG", -19) {}
/** −20: a malformed connect timeout (negative or not a duration), as `SP_connect_timeout`. */
export class IllegalTime extends spreadError("IllegalTime", "ILLEGAL_TIME", -20) {}

/** Every error of this client. */
export type SpreadError =
  | IllegalSpread
  | CouldNotConnect
  | RejectQuota
  | RejectNoName
  | RejectIllegalName
  | RejectNotUnique
  | RejectVersion
  | ConnectionClosed
  | RejectAuth
  | IllegalSession
  | IllegalService
  | IllegalMessage
  | IllegalGroup
  | BufferTooShort
  | GroupsTooShort
  | MessageTooLong
  | NetErrorOnSession
  | SpBug
  | IllegalTime

/** What a reject byte from the daemon can mean (§3.9). */
export type HandshakeReject = RejectQuota | RejectNoName | RejectIllegalName | RejectNotUnique | RejectVersion | RejectAuth

/** Everything that can stop a connect (`SP_connect_timeout`). */
export type ConnectError =
  | IllegalSpread
  | CouldNotConnect
  | HandshakeReject
  | ConnectionClosed
  | IllegalTime

/** What a call on an established session fails with when the session itself is gone. */
export type SessionError = ConnectionClosed | NetErrorOnSession | IllegalSession

/** Why the `messages` stream ends with a failure. */
export type ReceiveError = ConnectionClosed | IllegalMessage

/**
 * The error for a handshake reject byte (§3.9), read as a signed value. An unknown negative
 * value is reported as `CONNECTION_CLOSED`, since the session cannot go on either way.
 */
export const handshakeRejectError = (code: number): HandshakeReject | ConnectionClosed => {
  const reason = `the daemon answered the handshake with reject byte ${code}`
  switch (code) {
    case RejectQuota.code:
      return new RejectQuota({ reason })
    case RejectNoName.code:
      return new RejectNoName({ reason })
    case RejectIllegalName.code:
      return new RejectIllegalName({ reason })
    case RejectNotUnique.code:
      return new RejectNotUnique({ reason })
    case RejectVersion.code:
      return new RejectVersion({ reason })
    case RejectAuth.code:
      return new RejectAuth({ reason })
    default:
      return new ConnectionClosed({ reason })
  }
}
