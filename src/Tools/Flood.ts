/**
 * The flood at the heart of `spflooder` and the benchmarks: send and/or receive N messages of B
 * bytes through one daemon, and measure rate, one-way latency and delivery (loss, duplicates,
 * order). Each payload starts with a 16-byte stamp: sequence number, sender tag and send time.
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { type ConnectError, type ReceiveError, type ServiceType, type SessionError, SpreadClient, type SpreadClientService } from "../Client/index.js"

export type FloodMode = "both" | "send" | "receive"

export interface FloodOptions {
  /** `"4803"`, `"4803@host"` or a socket path. */
  readonly spreadName: string
  readonly privateName: string
  /** The group, or several: each message goes to all of them at once; a receiver joins all. */
  readonly group: string | ReadonlyArray<string>
  /** Messages each sender sends. */
  readonly messages: number
  /** Payload size; stamps (and so latency and order checks) need at least 16. */
  readonly bytes: number
  readonly service: ServiceType
  /** `both`: send and receive its own messages, at most `window` in flight (like Spread's flooder). */
  readonly mode: FloodMode
  readonly window: number
  /** How many senders a receiver expects (`messages` from each). */
  readonly senders: number
  /** Called now and then with the count of messages done. */
  readonly onProgress?: (done: number) => void
  /**
   * A receiver that got nothing for this long, once messages flowed, stops and counts the rest
   * as lost (otherwise it waits for every expected message). Absent: wait for ever.
   */
  readonly idleSeconds?: number
}

export interface FloodReport {
  readonly mode: FloodMode
  readonly bytes: number
  readonly sent: number
  readonly received: number
  readonly seconds: number
  readonly messagesPerSecond: number
  readonly megabytesPerSecond: number
  /** One-way latency in milliseconds, when this process received stamped messages. */
  readonly latencyP50: number | undefined
  readonly latencyP99: number | undefined
  readonly lost: number
  readonly duplicated: number
  readonly outOfOrder: number
}

/** seq u32 | sender tag u32 | send time f64 (ms since the epoch, sub-ms precision). */
export const STAMP_LENGTH = 16

const now = (): number => performance.timeOrigin + performance.now()

const stamp = (payload: Buffer, seq: number, tag: number): void => {
  if (payload.length < STAMP_LENGTH) return
  payload.writeUInt32LE(seq, 0)
  payload.writeUInt32LE(tag, 4)
  payload.writeDoubleLE(now(), 8)
}

/** Per-sender delivery bookkeeping from the stamps. */
class Tally {
  private readonly seen = new Map<number, { readonly got: Uint8Array; max: number }>()
  duplicated = 0
  outOfOrder = 0
  distinct = 0
  readonly latencies: Array<number> = []

  constructor(private readonly perSender: number) {}

  record(data: Buffer): void {
    if (data.length < STAMP_LENGTH) {
      this.distinct++
      return
    }
    const seq = data.readUInt32LE(0)
    const tag = data.readUInt32LE(4)
    this.latencies.push(now() - data.readDoubleLE(8))
    let s = this.seen.get(tag)
    if (s === undefined) {
      s = { got: new Uint8Array(this.perSender), max: -1 }
      this.seen.set(tag, s)
    }
    if (seq < s.max) this.outOfOrder++
    else s.max = seq
    if (seq >= this.perSender) return
    if (s.got[seq] === 1) this.duplicated++
    else {
      s.got[seq] = 1
      this.distinct++
    }
  }
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number | undefined =>
  sorted.length === 0 ? undefined : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]

/** A sender tag from the private name, so a receiver tells senders apart. */
const tagOf = (name: string): number => {
  let h = 2166136261
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619)
  return h >>> 0
}

const PROGRESS_EVERY = 1000

type FloodError = ConnectError | SessionError | ReceiveError | Error

const waitForOwnJoins = (client: SpreadClientService, groups: ReadonlyArray<string>) => {
  const waiting = new Set(groups)
  return client.messages.pipe(
    Stream.takeUntil((m) => {
      if (m._tag === "Membership" && m.changedMember === client.privateGroup) waiting.delete(m.group)
      return waiting.size === 0
    }),
    Stream.runDrain
  )
}

/** How often the idle watchdog looks at the time of the last delivery. */
const IDLE_CHECK_MILLIS = 100

/** Completes once `idleMillis` passed since `lastActivity()` (0: nothing yet, keep waiting). */
const idleWatchdog = (lastActivity: () => number, idleMillis: number): Effect.Effect<void> =>
  Effect.sleep(IDLE_CHECK_MILLIS).pipe(
    Effect.repeat({ until: () => lastActivity() > 0 && now() - lastActivity() > idleMillis }),
    Effect.asVoid
  )

/** Runs one flood and reports what it measured. */
export const flood = (o: FloodOptions): Effect.Effect<FloodReport, FloodError> =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* SpreadClient.make({ spreadName: o.spreadName, privateName: o.privateName, groupMembership: true })
    const receives = o.mode !== "send"
    const expected = o.mode === "both" ? o.messages : o.messages * o.senders
    const tag = tagOf(client.privateGroup)
    const tally = new Tally(o.messages)
    const payload = Buffer.alloc(o.bytes, 0x61)
    const groups = typeof o.group === "string" ? [o.group] : o.group
    if (receives) {
      for (const group of groups) yield* client.join(group)
      yield* waitForOwnJoins(client, groups)
    }
    let sent = 0
    let received = 0
    const sendUpTo = (limit: number) =>
      Effect.gen(function*() {
        while (sent < limit) {
          stamp(payload, sent, tag)
          yield* client.multicast(o.service, groups, 0, payload)
          sent++
          if (o.mode === "send" && sent % PROGRESS_EVERY === 0) o.onProgress?.(sent)
        }
      })

    let started = now()
    /** When the last message arrived (0: none yet); the end of a receiver's measurement. */
    let lastActivity = 0
    if (o.mode === "send") {
      yield* sendUpTo(o.messages)
    } else {
      if (o.mode === "both") yield* sendUpTo(Math.min(o.window, o.messages))
      let first = true
      let counted = 0
      lastActivity = o.mode === "both" ? now() : 0
      const receiving = client.messages.pipe(
        // Stop right after the last expected message (the predicate runs before the chunk's handler).
        Stream.takeUntil((m) => m._tag === "Data" && ++counted >= expected),
        Stream.runForEachArray((chunk) =>
          Effect.gen(function*() {
            for (const m of chunk) {
              if (m._tag !== "Data") continue
              if (first && o.mode === "receive") {
                started = now()
                first = false
              }
              tally.record(m.data)
              received++
              if (received % PROGRESS_EVERY === 0) o.onProgress?.(received)
            }
            if (received > 0) lastActivity = now()
            if (o.mode === "both") yield* sendUpTo(Math.min(o.messages, received + o.window))
          })
        )
      )
      yield* o.idleSeconds === undefined
        ? receiving
        : Effect.raceFirst(receiving, idleWatchdog(() => lastActivity, o.idleSeconds * 1000))
    }
    // A receiver stopped by the idle limit measures up to its last message, not the idle wait.
    const seconds = ((receives && received > 0 ? lastActivity : now()) - started) / 1000
    const done = o.mode === "send" ? sent : received
    const sorted = tally.latencies.sort((a, b) => a - b)
    return {
      mode: o.mode,
      bytes: o.bytes,
      sent,
      received,
      seconds,
      messagesPerSecond: done / seconds,
      megabytesPerSecond: (done * o.bytes) / seconds / 1e6,
      latencyP50: percentile(sorted, 50),
      latencyP99: percentile(sorted, 99),
      lost: receives && o.bytes >= STAMP_LENGTH ? expected - tally.distinct : 0,
      duplicated: tally.duplicated,
      outOfOrder: tally.outOfOrder
    }
  }))
