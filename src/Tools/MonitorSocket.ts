/**
 * `spmonitor`'s UDP side (daemon-protocol §10): one socket bound to a configured daemon's
 * address (a daemon answers only those), a request per daemon to its DATA port, and the replies
 * collected by nonce until every daemon answered or the timeout passed.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomInt } from "node:crypto"
import { createSocket, type Socket } from "node:dgram"
import type { DaemonEntry } from "../Config/Model.js"
import {
  decodeMonitorPacket, encodeMonitorPacket, type MonitorRequest, type MonStatusReply, signMonitorPacket,
  verifyMonitorPacket
} from "../Protocol/Ring/Monitor.js"

export class MonitorBindError extends Data.TaggedError("MonitorBindError")<{
  readonly address: string
  readonly reason: string
}> {
  override get message(): string {
    return `cannot bind UDP ${this.address}: ${this.reason}`
  }
}

/** What one daemon said in a round. */
export type RoundResult =
  | { readonly _tag: "Reply"; readonly daemon: DaemonEntry; readonly reply: MonStatusReply }
  | { readonly _tag: "NoReply"; readonly daemon: DaemonEntry; readonly sendError?: string }

export interface MonitorSocket {
  /** The local port the replies come to (the requests' `replyPort`). */
  readonly port: number
  /**
   * Sends `request(nonce)` to each daemon's DATA port and waits up to `timeoutMs` for the
   * replies; results in the order of `daemons`.
   */
  readonly round: (
    daemons: ReadonlyArray<DaemonEntry>,
    request: (nonce: number) => MonitorRequest,
    timeoutMs: number
  ) => Effect.Effect<ReadonlyArray<RoundResult>>
}

export interface MonitorSocketOptions {
  readonly bindAddress: string
  readonly configHash: number
  /** `MonitorKey` bytes: requests are signed, replies must be. */
  readonly key: Uint8Array | undefined
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const bindSocket = (address: string): Effect.Effect<Socket, MonitorBindError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Socket, MonitorBindError>((resume) => {
      const socket = createSocket(address.includes(":") ? "udp6" : "udp4")
      const onError = (e: Error): void => {
        socket.close()
        resume(Effect.fail(new MonitorBindError({ address, reason: e.message })))
      }
      socket.once("error", onError)
      socket.once("listening", () => {
        socket.off("error", onError)
        socket.on("error", () => undefined) // ICMP port unreachable and the like: that daemon shows "no reply"
        resume(Effect.succeed(socket))
      })
      socket.bind({ address, port: 0 })
    }),
    (socket) => Effect.sync(() => socket.close())
  )

/** The reply in a datagram, if it is a well-formed, authentic reply for this configuration. */
const readReply = (bytes: Buffer, options: MonitorSocketOptions): MonStatusReply | undefined => {
  let packet = bytes
  if (options.key !== undefined) {
    const v = verifyMonitorPacket(bytes, options.key)
    if (!v.ok) return undefined
    packet = v.packet
  }
  const d = decodeMonitorPacket(packet)
  if (!d.ok || d.header.configHash !== options.configHash || d.packet._tag !== "MON_STATUS_REPLY") return undefined
  return d.packet
}

/**
 * Opens the socket for the scope.
 *
 * @example
 * ```ts
 * const socket = yield* openMonitorSocket({ bindAddress: "127.0.0.1", configHash, key: undefined })
 * const results = yield* socket.round(config.daemons, (nonce) => ({ _tag: "MON_STATUS_REQUEST", replyPort: socket.port, nonce }), 1000)
 * ```
 */
export const openMonitorSocket = (options: MonitorSocketOptions): Effect.Effect<MonitorSocket, MonitorBindError, Scope.Scope> =>
  Effect.gen(function*() {
    const socket = yield* bindSocket(options.bindAddress)
    /** The current round's waiting entries by nonce; replies to older rounds are ignored. */
    let pending = new Map<number, (reply: MonStatusReply) => void>()
    socket.on("message", (bytes) => {
      const reply = readReply(bytes, options)
      if (reply !== undefined) pending.get(reply.nonce)?.(reply)
    })
    const encode = (request: MonitorRequest): Buffer => {
      const packet = encodeMonitorPacket(options.configHash, request)
      return options.key === undefined ? packet : signMonitorPacket(packet, options.key)
    }

    const round: MonitorSocket["round"] = (daemons, request, timeoutMs) =>
      Effect.callback<ReadonlyArray<RoundResult>>((resume) => {
        const results = new Array<RoundResult | undefined>(daemons.length)
        const sendErrors = new Map<number, string>()
        let open = daemons.length
        const finish = (): void => {
          clearTimeout(timer)
          pending = new Map()
          resume(Effect.succeed(daemons.map((daemon, i): RoundResult => {
            const r = results[i]
            if (r !== undefined) return r
            const sendError = sendErrors.get(i)
            return sendError === undefined ? { _tag: "NoReply", daemon } : { _tag: "NoReply", daemon, sendError }
          })))
        }
        const timer = setTimeout(finish, timeoutMs)
        const base = randomInt(0x1_0000_0000)
        const round = new Map<number, (reply: MonStatusReply) => void>()
        daemons.forEach((daemon, i) => {
          const nonce = (base + i) >>> 0
          round.set(nonce, (reply) => {
            if (results[i] !== undefined) return
            results[i] = { _tag: "Reply", daemon, reply }
            if (--open === 0) finish()
          })
        })
        pending = round
        daemons.forEach((daemon, i) => {
          socket.send(encode(request((base + i) >>> 0)), daemon.port, daemon.address ?? "", (e) => {
            if (e !== null && e !== undefined) sendErrors.set(i, errorText(e))
          })
        })
        if (daemons.length === 0) finish()
        return Effect.sync(() => {
          clearTimeout(timer)
          pending = new Map()
        })
      })

    return { port: socket.address().port, round }
  })
