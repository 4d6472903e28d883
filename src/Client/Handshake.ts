/**
 * The client side of the connection handshake (client-protocol §3) as a sans-IO state machine:
 * the socket shell writes what {@link ClientHandshake.start} and {@link ClientHandshake.receive}
 * return and feeds it every received byte. Each phase is one write, and the auth choice is only
 * written after the auth list has been read, never pipelined (§3.3 step 5, §12 item 3).
 */
import {
  type ByteQueue,
  encodeAuthChoice,
  encodeConnect,
  parseAccept,
  parseAuthList,
  ProtocolError,
  SPREAD_VERSION,
  type Version
} from "../Protocol/index.js"
import { ConnectionClosed, handshakeRejectError, RejectAuth, RejectVersion } from "./Errors.js"
import type { ConnectError } from "./Errors.js"
import type { ConnectPlan } from "./Options.js"

/** What the handshake wants next. */
export type HandshakeStep =
  /** Write `write` (if any) and wait for more bytes. */
  | { readonly _tag: "Continue"; readonly write: Buffer | undefined }
  /** The session is open; bytes after the accept are left in the queue. */
  | { readonly _tag: "Accepted"; readonly privateGroup: string; readonly daemonVersion: Version }
  | { readonly _tag: "Failed"; readonly error: Exclude<ConnectError, { readonly _tag: "IllegalSpread" | "CouldNotConnect" | "IllegalTime" }> }

const CONTINUE: HandshakeStep = { _tag: "Continue", write: undefined }

/** Daemons 3.0–3.7 refuse a priority (§3.7); libspread checks it and so do we. */
const rejectsPriority = (v: Version): boolean => v.major === 3 && v.minor < 8

export class ClientHandshake {
  private phase: "authList" | "accept" | "done" = "authList"

  constructor(private readonly plan: ConnectPlan) {}

  /** (A), to be written in one write right after the socket connects (§3.3 step 2). */
  start(): Buffer {
    return encodeConnect({
      version: SPREAD_VERSION,
      groupMembership: this.plan.groupMembership,
      priority: this.plan.priority,
      name: this.plan.privateName
    })
  }

  /** Consumes what it can from `received` (which holds every byte not yet consumed). */
  receive(received: ByteQueue): HandshakeStep {
    try {
      return this.step(received)
    } catch (e) {
      // libspread answers a malformed reply with CONNECTION_CLOSED (§3.4, §3.7).
      return this.fail(new ConnectionClosed({ reason: `bad handshake reply: ${e instanceof ProtocolError ? e.reason : String(e)}` }))
    }
  }

  /** The daemon closed the socket before the handshake finished (a silent close, §3.9). */
  closed(): HandshakeStep {
    return this.fail(new ConnectionClosed({ reason: "the daemon closed the connection during the handshake" }))
  }

  private step(received: ByteQueue): HandshakeStep {
    if (received.length === 0) return CONTINUE
    switch (this.phase) {
      case "authList": {
        const list = parseAuthList(received.peek(received.length))
        if (list._tag === "Need") return CONTINUE
        if (list._tag === "Reject") return this.fail(handshakeRejectError(list.code))
        received.take(list.consumed)
        // libspread checks every method against the offered list before choosing (§3.5).
        const missing = this.plan.authMethods.find((m) => !list.methods.includes(m))
        if (missing !== undefined) {
          return this.fail(new RejectAuth({ reason: `the daemon does not offer ${missing} (it offers ${list.methods.join(", ") || "nothing"})` }))
        }
        this.phase = "accept"
        // Nothing else may be queued: the accept only follows our choice.
        return { _tag: "Continue", write: encodeAuthChoice(this.plan.authMethods) }
      }
      case "accept": {
        const accept = parseAccept(received.peek(received.length), true)
        if (accept._tag === "Need") return CONTINUE
        if (accept._tag === "Reject") return this.fail(handshakeRejectError(accept.code))
        received.take(accept.consumed)
        if (this.plan.priority >= 1 && rejectsPriority(accept.version)) {
          return this.fail(new RejectVersion({ reason: `daemon ${accept.version.major}.${accept.version.minor} does not support priority` }))
        }
        this.phase = "done"
        return { _tag: "Accepted", privateGroup: accept.privateGroup, daemonVersion: accept.version }
      }
      case "done":
        return CONTINUE
    }
  }

  private fail(error: Extract<HandshakeStep, { _tag: "Failed" }>["error"]): HandshakeStep {
    this.phase = "done"
    return { _tag: "Failed", error }
  }
}
