/**
 * The Spread client as an Effect service: one connection to a daemon, opened when the Layer is
 * built and disconnected (`KILL_MESS`, then close) when its scope closes.
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { DaemonMessage, Version } from "../Protocol/index.js"
import {
  type ConnectError,
  ConnectionClosed,
  type IllegalGroup,
  type IllegalService,
  type MessageTooLong,
  type ReceiveError,
  type SessionError
} from "./Errors.js"
import type { ConnectOptions } from "./Options.js"
import { planConnect } from "./Options.js"
import { checkMulticast, encodeJoinChecked, encodeLeaveChecked, type MulticastOptions, type ServiceType } from "./Outgoing.js"
import { connectSession, type Inbox, Session } from "./Session.js"

/**
 * What the daemon delivers (client-protocol §7.2), tagged by `_tag`:
 * - `Data`: a multicast (`serviceType`, `sender`, `groups`, `messType`, `endianMismatch`, `data`);
 * - `Membership`: a regular membership (`cause` join/leave/disconnect/network, `group`,
 *   `groupId`, `members`, `vsSets`, `localVsSetIndex`, `changedMember`, `myIndex`) — what
 *   `SP_get_memb_info` and `SP_get_vs_sets_info` give in C;
 * - `Transition`: a transitional membership (`group`, the old `groupId`);
 * - `SelfLeave`: we left `group`;
 * - `Reject`: a message of ours the daemon refused (`serviceType` includes `REJECT_MESS`).
 *
 * @example
 * ```ts
 * const describe = (m: SpreadMessage): string => {
 *   switch (m._tag) {
 *     case "Data": return `${m.sender}: ${m.data.toString()}`
 *     case "Membership": return `${m.group} is now ${m.members.join(", ")} (${m.cause})`
 *     default: return m._tag
 *   }
 * }
 * ```
 */
export type SpreadMessage = DaemonMessage

/**
 * The operations of one connected session.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { SpreadClient } from "spread-ts/Client"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* SpreadClient
 *   yield* client.join("chat")
 *   yield* client.multicast("agreed", "chat", 7, "hello")
 *   const firstTwo = yield* client.messages.pipe(Stream.take(2), Stream.runCollect)
 * }).pipe(Effect.provide(SpreadClient.layer({ spreadName: "4803@localhost", privateName: "alice" })))
 * ```
 */
export interface SpreadClientService {
  /** Our private group, `#<private name>#<daemon name>`: the address for point-to-point messages. */
  readonly privateGroup: string
  /** The version the daemon announced in its accept. */
  readonly daemonVersion: Version
  /** `SP_join`: the effect shows up later as a `Membership` message (§5.2). */
  readonly join: (group: string) => Effect.Effect<void, IllegalGroup | SessionError>
  /** `SP_leave`: the effect shows up later as a `SelfLeave` message. */
  readonly leave: (group: string) => Effect.Effect<void, IllegalGroup | SessionError>
  /**
   * `SP_multigroup_multicast`: sends `payload` (bytes, or a string sent as UTF-8) to one or
   * more groups (at most 100; reference daemons lose messages to 44 or more, §8.4) with a
   * 16-bit `messType`. Back-to-back calls are written to the socket in batches.
   */
  readonly multicast: (
    service: ServiceType,
    groups: string | ReadonlyArray<string>,
    messType: number,
    payload: Uint8Array | string,
    options?: MulticastOptions
  ) => Effect.Effect<void, IllegalService | IllegalGroup | MessageTooLong | SessionError>
  /**
   * Everything the daemon delivers, in order, in chunks of what each socket read brought. Meant
   * for one consumer at a time (it drains the session's inbox). It ends at disconnect and fails
   * with `ConnectionClosed` when the daemon goes away, or `IllegalMessage` on a broken stream.
   */
  readonly messages: Stream.Stream<SpreadMessage, ReceiveError>
  /** `SP_poll`: how many received messages wait to be taken from `messages`. */
  readonly poll: Effect.Effect<number>
}

const makeService = (session: Session): SpreadClientService => {
  const { privateGroup } = session
  return {
    privateGroup,
    daemonVersion: session.daemonVersion,
    join: (group) =>
      Effect.suspend((): Effect.Effect<void, IllegalGroup | SessionError> => {
        const bytes = encodeJoinChecked(privateGroup, group)
        return Buffer.isBuffer(bytes) ? session.sendInOrder(bytes) : Exit.fail(bytes)
      }),
    leave: (group) =>
      Effect.suspend((): Effect.Effect<void, IllegalGroup | SessionError> => {
        const bytes = encodeLeaveChecked(privateGroup, group)
        return Buffer.isBuffer(bytes) ? session.sendInOrder(bytes) : Exit.fail(bytes)
      }),
    multicast: (service, groups, messType, payload, options) =>
      Effect.suspend((): Effect.Effect<void, IllegalService | IllegalGroup | MessageTooLong | SessionError> => {
        const message = checkMulticast(privateGroup, service, groups, messType, payload, options?.selfDiscard ?? false)
        return "_tag" in message ? Exit.fail(message) : session.sendInOrder(message)
      }),
    messages: Stream.fromQueue(session.inbox).pipe(
      Stream.mapArray((chunk) => {
        session.afterTake()
        return chunk
      })
    ),
    poll: Queue.size(session.inbox)
  }
}

/**
 * A connected Spread session (`SP_connect` … `SP_disconnect`) as an Effect service.
 *
 * @example
 * ```ts
 * import { Effect, Stream } from "effect"
 * import { SpreadClient } from "spread-ts/Client"
 *
 * const Alice = SpreadClient.layer({ spreadName: "4803", privateName: "alice" })
 *
 * Effect.gen(function*() {
 *   const client = yield* SpreadClient
 *   yield* client.join("chat")
 *   yield* client.messages.pipe(Stream.runForEach((m) => Effect.log(m._tag)), Effect.forkScoped)
 *   yield* client.multicast("safe", ["chat"], 0, new Uint8Array([1, 2, 3]), { selfDiscard: true })
 * }).pipe(Effect.scoped, Effect.provide(Alice), Effect.runPromise)
 * ```
 */
export class SpreadClient extends Context.Service<SpreadClient, SpreadClientService>()("spread/Client/SpreadClient") {
  /**
   * Connects and returns the session; closing the scope disconnects it (`KILL_MESS`, close).
   *
   * @example
   * ```ts
   * const client = yield* SpreadClient.make({ spreadName: "4803@localhost", timeout: "3 seconds" })
   * ```
   */
  static readonly make = (options: ConnectOptions): Effect.Effect<SpreadClientService, ConnectError, Scope.Scope> =>
    Effect.gen(function*() {
      const plan = planConnect(options)
      if (!("address" in plan)) return yield* Effect.fail(plan)
      const inbox: Inbox = yield* Queue.unbounded<DaemonMessage, ReceiveError | Cause.Done>()
      const connect = connectSession(plan, inbox)
      const timed = plan.timeoutMillis === undefined
        ? connect
        : Effect.timeoutOrElse(connect, {
          duration: plan.timeoutMillis,
          orElse: () => Effect.fail(new ConnectionClosed({ reason: `no session within ${plan.timeoutMillis} ms` }))
        })
      const session = yield* Effect.acquireRelease(timed, (s) => s.disconnect)
      return makeService(session)
    })

  /**
   * The Layer of one session built from connect options.
   *
   * @example
   * ```ts
   * const program = SpreadClient.use((c) => c.join("chat")).pipe(
   *   Effect.provide(SpreadClient.layer({ spreadName: "4803@localhost", privateName: "bob" }))
   * )
   * ```
   */
  static readonly layer = (options: ConnectOptions): Layer.Layer<SpreadClient, ConnectError> =>
    Layer.effect(SpreadClient, SpreadClient.make(options))
}
