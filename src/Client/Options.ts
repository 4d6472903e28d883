/**
 * Connect options (the arguments of `SP_connect_timeout`, client-protocol §2.2, §3.2) and their
 * validation into a plan the socket layer can follow.
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import { type DaemonAddress, parseSpreadName } from "../Protocol/index.js"
import { IllegalSpread, IllegalTime } from "./Errors.js"

/** An auth method that needs no exchange after the choice (§3.6). */
export type AuthMethod = "NULL" | "IP"

/**
 * How to reach and greet a daemon.
 *
 * @example
 * ```ts
 * const options: ConnectOptions = { spreadName: "4803@localhost", privateName: "alice", timeout: "5 seconds" }
 * ```
 */
export interface ConnectOptions {
  /**
   * `"<port>"` (Unix socket `/tmp/<port>`), `"<port>@<host>"` (TCP), or an absolute Unix socket
   * path. Default `"4803"`, as libspread.
   */
  readonly spreadName?: string | undefined
  /**
   * At most 10 bytes (longer names are cut, as libspread does); the daemon checks the
   * characters. Empty or absent: the daemon invents a name (§3.3 step 6).
   */
  readonly privateName?: string | undefined
  /** Sent as the priority flag when ≥ 1; daemons store it and ignore it (§3.2). Default 0. */
  readonly priority?: number | undefined
  /** Receive membership messages (flags bit 0). Default true. */
  readonly groupMembership?: boolean | undefined
  /**
   * Limit for the whole connect (socket + handshake); `CONNECTION_CLOSED` when it passes.
   * Absent or 0: no limit, like `SP_connect`. Negative or malformed: `ILLEGAL_TIME`.
   */
  readonly timeout?: Duration.Input | undefined
  /**
   * Methods to request, in order (at most 2, §12 item 5). Each must appear in the daemon's
   * list, else the connect fails with `REJECT_AUTH` without sending the choice. Default `["NULL"]`.
   */
  readonly authMethods?: ReadonlyArray<AuthMethod> | undefined
}

/** Validated options. */
export interface ConnectPlan {
  readonly address: DaemonAddress
  readonly privateName: string
  readonly priority: number
  readonly groupMembership: boolean
  /** Milliseconds, or undefined for no limit. */
  readonly timeoutMillis: number | undefined
  readonly authMethods: ReadonlyArray<AuthMethod>
}

/** Defensive cap on auth slots: a full third slot overruns the reference daemon (§12 item 5). */
const MAX_AUTH_SLOTS_USED = 2

export const planConnect = (options: ConnectOptions): ConnectPlan | IllegalSpread | IllegalTime => {
  const address = parseSpreadName(options.spreadName)
  if (address === undefined) {
    return new IllegalSpread({ reason: `cannot parse spread name ${JSON.stringify(options.spreadName)}` })
  }
  let timeoutMillis: number | undefined
  if (options.timeout !== undefined) {
    const duration = Duration.fromInput(options.timeout)
    if (Option.isNone(duration)) return new IllegalTime({ reason: `malformed timeout ${String(options.timeout)}` })
    const millis = Duration.toMillis(duration.value)
    if (!(millis >= 0)) return new IllegalTime({ reason: `negative timeout ${String(options.timeout)}` })
    timeoutMillis = millis === 0 || millis === Infinity ? undefined : millis
  }
  const authMethods = options.authMethods ?? ["NULL"]
  if (authMethods.length === 0 || authMethods.length > MAX_AUTH_SLOTS_USED) {
    // An empty choice is always refused by the daemon (§3.5); say so before connecting.
    return new IllegalSpread({ reason: `between 1 and ${MAX_AUTH_SLOTS_USED} auth methods are needed` })
  }
  return {
    address,
    privateName: options.privateName ?? "",
    priority: options.priority ?? 0,
    groupMembership: options.groupMembership ?? true,
    timeoutMillis,
    authMethods
  }
}
