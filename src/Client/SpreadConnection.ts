/**
 * A Promise/listener facade over {@link SpreadClient} for code without Effect, in the spirit of
 * the Java API's `SpreadConnection` and its listeners. It runs the Effect service in a scope of
 * its own; it is not a second protocol implementation.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { DataMessage, MembershipMessage, RejectMessage, SelfLeaveMessage, TransitionMessage } from "../Protocol/index.js"
import type { ConnectOptions } from "./Options.js"
import type { MulticastOptions, ServiceType } from "./Outgoing.js"
import type { ReceiveError } from "./Errors.js"
import { SpreadClient, type SpreadClientService, type SpreadMessage } from "./SpreadClient.js"

/** What `on("message")` listeners get: data, and rejects of our own messages. */
export type RegularEvent = DataMessage | RejectMessage
/** What `on("membership")` listeners get. */
export type MembershipEvent = MembershipMessage | TransitionMessage | SelfLeaveMessage

type Listeners = {
  message: Set<(m: RegularEvent) => void>
  membership: Set<(m: MembershipEvent) => void>
  error: Set<(e: ReceiveError) => void>
}

const RESOLVED = Promise.resolve()

interface PendingCall {
  readonly effect: Effect.Effect<void, unknown>
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

const settle = (call: PendingCall, exit: Exit.Exit<void, unknown>): void => {
  if (Exit.isSuccess(exit)) call.resolve()
  else call.reject(Cause.squash(exit.cause))
}

/**
 * Runs the calls of one connection, in call order. A call completes synchronously unless the
 * socket is congested, so it runs with `runSyncExit`: no fiber on the default scheduler, no
 * promise of its own. When one has to wait, it continues as the fiber `runSyncExit` started,
 * and later calls queue here; one fiber then runs each queued batch (no fiber per call).
 */
class CallRunner {
  private queue: Array<PendingCall> = []
  private draining = false

  run(effect: Effect.Effect<void, unknown>): Promise<void> {
    if (this.draining) return this.enqueue(effect)
    const exit = Effect.runSyncExit(effect)
    if (Exit.isSuccess(exit)) return RESOLVED
    for (const reason of exit.cause.reasons) {
      if (Cause.isDieReason(reason) && Cause.isAsyncFiberError(reason.defect)) {
        const first = Effect.runPromise(Fiber.join(reason.defect.fiber)).then(() => undefined)
        this.draining = true
        void this.drain(first)
        return first
      }
    }
    return Promise.reject(Cause.squash(exit.cause))
  }

  private enqueue(effect: Effect.Effect<void, unknown>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ effect, resolve, reject })
    })
  }

  private async drain(first: Promise<void>): Promise<void> {
    await first.catch(() => undefined)
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      await Effect.runPromise(Effect.forEach(batch, (call) => Effect.map(Effect.exit(call.effect), (exit) => settle(call, exit)), { discard: true }))
    }
    this.draining = false
  }
}

/** An async iterator's own buffer; the pump waits while one holds this many messages. */
const ITERATOR_HIGH_WATER = 16_384

interface IteratorState {
  buffer: Array<SpreadMessage>
  head: number
  wake: (() => void) | undefined
}

/**
 * One connection to a daemon, with Promises and listeners.
 *
 * Messages are read only once something listens (`on("message" | "membership")` or an async
 * iteration); until then they wait, as in C until `SP_receive` is called. Each listener and
 * each running iteration sees every message from the moment it was added.
 *
 * @example
 * ```ts
 * import { SpreadConnection } from "spread-ts/Client"
 *
 * const connection = await SpreadConnection.connect({ spreadName: "4803@localhost", privateName: "alice" })
 * connection.on("membership", (m) => console.log("view", m._tag, m.group))
 * await connection.join("chat")
 * await connection.multicast("agreed", "chat", 0, "hello")
 * for await (const m of connection) {
 *   if (m._tag === "Data") { console.log(m.sender, m.data.toString()); break }
 * }
 * await connection.disconnect()
 * ```
 */
export class SpreadConnection implements AsyncIterable<SpreadMessage> {
  private readonly listeners: Listeners = { message: new Set(), membership: new Set(), error: new Set() }
  private readonly iterators = new Set<IteratorState>()
  private pump: Fiber.Fiber<void, ReceiveError> | undefined
  private ended: { readonly error: ReceiveError | undefined } | undefined
  private resumePump: (() => void) | undefined
  private disconnecting: Promise<void> | undefined
  private readonly calls = new CallRunner()

  private constructor(private readonly client: SpreadClientService, private readonly scope: Scope.Closeable) {}

  /**
   * Connects (`SP_connect_timeout`). Rejects with one of the {@link ConnectError} classes.
   *
   * @example
   * ```ts
   * const c = await SpreadConnection.connect({ spreadName: "4803", privateName: "bob", groupMembership: true })
   * ```
   */
  static async connect(options: ConnectOptions): Promise<SpreadConnection> {
    const scope = Effect.runSync(Scope.make())
    const exit = await Effect.runPromiseExit(SpreadClient.make(options).pipe(Scope.provide(scope)))
    if (Exit.isFailure(exit)) {
      await Effect.runPromise(Scope.close(scope, exit))
      return Effect.runPromise(Effect.failCause(exit.cause))
    }
    return new SpreadConnection(exit.value, scope)
  }

  /** Our private group `#<name>#<daemon>`. */
  get privateGroup(): string {
    return this.client.privateGroup
  }

  /** `SP_join`. Rejects with `IllegalGroup`, `ConnectionClosed`, `NetErrorOnSession` or `IllegalSession`. */
  join(group: string): Promise<void> {
    return this.calls.run(this.client.join(group))
  }

  /** `SP_leave`. Rejects like {@link join}. */
  leave(group: string): Promise<void> {
    return this.calls.run(this.client.leave(group))
  }

  /**
   * `SP_multigroup_multicast`. Rejects with `IllegalService`, `IllegalGroup`, `MessageTooLong`
   * or a session error. Calls made back to back are written in batches.
   */
  multicast(
    service: ServiceType,
    groups: string | ReadonlyArray<string>,
    messType: number,
    payload: Uint8Array | string,
    options?: MulticastOptions
  ): Promise<void> {
    return this.calls.run(this.client.multicast(service, groups, messType, payload, options))
  }

  /** Adds a listener; `"error"` gets the receive error that ended the session. */
  on(event: "message", listener: (m: RegularEvent) => void): this
  on(event: "membership", listener: (m: MembershipEvent) => void): this
  on(event: "error", listener: (e: ReceiveError) => void): this
  on(event: keyof Listeners, listener: (x: never) => void): this {
    ;(this.listeners[event] as Set<(x: never) => void>).add(listener)
    if (event === "error" && this.ended?.error !== undefined) listener(this.ended.error as never)
    if (event !== "error") this.startPump()
    return this
  }

  /** Removes a listener added with {@link on}. */
  off(event: "message", listener: (m: RegularEvent) => void): this
  off(event: "membership", listener: (m: MembershipEvent) => void): this
  off(event: "error", listener: (e: ReceiveError) => void): this
  off(event: keyof Listeners, listener: (x: never) => void): this {
    ;(this.listeners[event] as Set<(x: never) => void>).delete(listener)
    return this
  }

  /** Every message from now on, until disconnect; throws the receive error if the session fails. */
  [Symbol.asyncIterator](): AsyncIterator<SpreadMessage> {
    const state: IteratorState = { buffer: [], head: 0, wake: undefined }
    this.iterators.add(state)
    this.startPump()
    const finish = (): IteratorResult<SpreadMessage> => {
      this.iterators.delete(state)
      this.wakePump()
      return { done: true, value: undefined }
    }
    return {
      next: async (): Promise<IteratorResult<SpreadMessage>> => {
        while (true) {
          if (state.head < state.buffer.length) {
            const value = state.buffer[state.head++]!
            if (state.head === state.buffer.length) {
              state.buffer = []
              state.head = 0
              this.wakePump()
            }
            return { done: false, value }
          }
          if (this.ended !== undefined) {
            finish()
            if (this.ended.error !== undefined) throw this.ended.error
            return { done: true, value: undefined }
          }
          await new Promise<void>((resolve) => {
            state.wake = resolve
          })
          state.wake = undefined
        }
      },
      return: async () => finish()
    }
  }

  /**
   * `SP_disconnect`: sends `KILL_MESS` and closes; listeners and iterations end.
   *
   * @example
   * ```ts
   * await connection.disconnect()
   * ```
   */
  disconnect(): Promise<void> {
    this.disconnecting ??= (async () => {
      await Effect.runPromise(Scope.close(this.scope, Exit.void))
      if (this.pump === undefined) return this.end(undefined)
      // A pump held back by a lagging iteration would wait for it forever: what it has not
      // dispatched yet is dropped, as `SP_disconnect` drops unread messages.
      if (this.resumePump !== undefined) await Effect.runPromise(Fiber.interrupt(this.pump))
      else await Effect.runPromise(Fiber.await(this.pump))
      this.end(undefined)
    })()
    return this.disconnecting
  }

  // -------------------------------------------------------------------------------------------

  private startPump(): void {
    if (this.pump !== undefined || this.ended !== undefined) return
    const pump = this.client.messages.pipe(
      Stream.runForEachArray((chunk) => {
        this.dispatch(chunk)
        return this.backpressure()
      })
    )
    this.pump = Effect.runFork(pump)
    this.pump.addObserver((exit) => {
      this.end(Exit.isFailure(exit) ? firstError(exit) : undefined)
    })
  }

  private dispatch(chunk: ReadonlyArray<SpreadMessage>): void {
    const { message, membership } = this.listeners
    for (const m of chunk) {
      if (m._tag === "Data" || m._tag === "Reject") for (const l of message) callListener(l, m)
      else for (const l of membership) callListener(l, m)
    }
    for (const it of this.iterators) {
      for (const m of chunk) it.buffer.push(m)
      it.wake?.()
    }
  }

  /** The pump waits while an iteration lags far behind (the socket then pauses as well). */
  private backpressure(): Effect.Effect<void> {
    if (!this.lagging()) return Effect.void
    return Effect.callback<void>((resume) => {
      this.resumePump = () => {
        this.resumePump = undefined
        resume(Effect.void)
      }
      if (!this.lagging()) this.resumePump()
    })
  }

  private lagging(): boolean {
    for (const it of this.iterators) if (it.buffer.length - it.head >= ITERATOR_HIGH_WATER) return true
    return false
  }

  private wakePump(): void {
    if (this.resumePump !== undefined && !this.lagging()) this.resumePump()
  }

  private end(error: ReceiveError | undefined): void {
    if (this.ended !== undefined) return
    this.ended = { error }
    if (error !== undefined) for (const l of this.listeners.error) l(error)
    for (const it of this.iterators) it.wake?.()
  }
}

/**
 * A throwing listener must not stop the delivery to the others or end the session; its
 * exception is rethrown on its own, as an uncaught exception of an event listener would be.
 */
const callListener = <A>(listener: (a: A) => void, a: A): void => {
  try {
    listener(a)
  } catch (e) {
    setImmediate(() => {
      throw e
    })
  }
}

const firstError = (exit: Exit.Failure<void, ReceiveError>): ReceiveError | undefined => {
  for (const reason of exit.cause.reasons) if (reason._tag === "Fail") return reason.error
  return undefined
}
