/**
 * The interactive session of `spuser` and `sptuser`: connect, then run typed commands until `q`
 * or the end of standard input.
 *
 * Typed lines and (for `spuser`) received messages arrive on one queue in arrival order, read by
 * this one loop, as Spread's user program serves its terminal and its mailbox from one event
 * loop. While a command waits for a line (the message of `s`), messages are held; while `r` waits
 * for a message, lines are held. So a piped script runs in order, whatever the timing.
 * `sptuser` instead prints messages from a fiber of their own as soon as they arrive.
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import {
  ConnectionClosed,
  type ConnectError,
  type IllegalGroup,
  type IllegalService,
  type MessageTooLong,
  type ReceiveError,
  type SessionError,
  SpreadClient,
  type SpreadClientService,
  type SpreadMessage
} from "../Client/index.js"
import { MAX_MESSAGE_BODY_LEN } from "../Protocol/index.js"
import { describeMessage } from "./Format.js"
import {
  BURST_MESS_TYPE,
  burstPayload,
  DEFAULT_BURST_BYTES,
  DEFAULT_BURST_COUNT,
  MAX_BURST_COUNT,
  menu,
  parseCommand,
  parseCount,
  parseService,
  SERVICE_QUESTION,
  TYPED_MESS_TYPE,
  type UserCommand
} from "./UserCommand.js"
import { type InputEvent, openTerminal, outputOnly, type UserTerminal } from "./UserTerminal.js"

export interface UserOptions {
  /** `"4803"`, `"4803@host"` or a socket path. */
  readonly spreadName: string
  readonly privateName: string
  /** Only print what arrives; do not read standard input (`-r`). */
  readonly receiveOnly: boolean
  /** `sptuser`: print messages as they arrive, even while a line is being typed. */
  readonly threaded: boolean
}

type UserEvent =
  | InputEvent
  | { readonly _tag: "Message"; readonly message: SpreadMessage }
  | { readonly _tag: "Closed"; readonly error: ReceiveError }

export const PROMPT = "User> "

/** The queue between the readers (standard input, the session) and the command loop. */
class Events {
  /** Lines that came while `r` waited for a message. */
  private readonly heldInput: Array<InputEvent> = []
  /** Messages that came while a command waited for a line, or while printing is off (`d`). */
  readonly heldMessages: Array<SpreadMessage> = []

  constructor(private readonly queue: Queue.Queue<UserEvent>) {}

  /**
   * Takes events until `pick` returns a value for one; the events it passes over it has dealt
   * with (held or printed). The session's end fails the wait.
   */
  private takeUntil<A>(pick: (e: Exclude<UserEvent, { readonly _tag: "Closed" }>) => A | undefined): Effect.Effect<A, ReceiveError> {
    const loop: Effect.Effect<A, ReceiveError> = Effect.flatMap(Queue.take(this.queue), (e) => {
      if (e._tag === "Closed") return Effect.fail(e.error)
      const picked = pick(e)
      return picked === undefined ? loop : Effect.succeed(picked)
    })
    return loop
  }

  /** The next typed line or the end of input, holding messages that come first. */
  readonly nextInput: Effect.Effect<InputEvent, ReceiveError> = Effect.suspend(() => {
    const held = this.heldInput.shift()
    if (held !== undefined) return Effect.succeed(held)
    return this.takeUntil((e) => {
      if (e._tag !== "Message") return e
      this.heldMessages.push(e.message)
      return undefined
    })
  })

  /** The next received message, holding lines that come first (`r`). */
  readonly nextMessage: Effect.Effect<SpreadMessage, ReceiveError> = Effect.suspend(() => {
    const held = this.heldMessages.shift()
    if (held !== undefined) return Effect.succeed(held)
    return this.takeUntil((e) => {
      if (e._tag === "Message") return e.message
      this.heldInput.push(e)
      return undefined
    })
  })

  /** At the prompt with printing on: prints messages as they come until a line does. */
  nextInputPrinting(print: (m: SpreadMessage) => void): Effect.Effect<InputEvent, ReceiveError> {
    return Effect.suspend(() => {
      for (const m of this.heldMessages.splice(0)) print(m)
      const held = this.heldInput.shift()
      if (held !== undefined) return Effect.succeed(held)
      return this.takeUntil((e) => {
        if (e._tag !== "Message") return e
        print(e.message)
        return undefined
      })
    })
  }

  /** `p`: moves everything already queued into the held lists; how many messages wait. */
  readonly pending: Effect.Effect<number, ReceiveError> = Effect.suspend(() => Queue.clear(this.queue)).pipe(Effect.flatMap((events) => {
    for (const e of events) {
      if (e._tag === "Message") this.heldMessages.push(e.message)
      else if (e._tag === "Closed") return Effect.fail(e.error)
      else this.heldInput.push(e)
    }
    return Effect.succeed(this.heldMessages.length)
  }))
}

/** Errors of one command that the user can fix: reported, and the session goes on. */
type CommandError = IllegalGroup | IllegalService | MessageTooLong

const reportCommandError = (terminal: UserTerminal) => (e: CommandError) =>
  Effect.sync(() => terminal.print(`error: ${e.message}`))

/** Answers a question: undefined at the end of input. */
const question = (terminal: UserTerminal, events: Events, text: string) =>
  Effect.suspend(() => {
    terminal.ask(text)
    return Effect.map(events.nextInput, (e) => (e._tag === "Line" ? e.text : undefined))
  })

type Step = "continue" | "quit"

const runCommand = (
  command: UserCommand,
  client: SpreadClientService,
  terminal: UserTerminal,
  events: Events,
  state: { asyncPrint: boolean },
  threaded: boolean
): Effect.Effect<Step, ReceiveError | SessionError> => {
  const print = (text: string) => Effect.sync(() => terminal.print(text))
  const ask = (text: string) => question(terminal, events, text)
  const notThreaded = print("not in sptuser: received messages print as soon as they arrive")
  const go = Effect.gen(function*() {
    switch (command._tag) {
      case "Join":
        yield* client.join(command.group)
        return "continue"
      case "Leave":
        yield* client.leave(command.group)
        return "continue"
      case "Send": {
        const answer = yield* ask(SERVICE_QUESTION)
        if (answer === undefined) return "quit"
        const service = parseService(answer)
        if (service === undefined) {
          yield* print(`unknown service ${JSON.stringify(answer.trim())}: nothing sent`)
          return "continue"
        }
        const line = yield* ask("enter message: ")
        if (line === undefined) return "quit"
        // The C spuser sends the line with its newline; so do we, for the same bytes on the wire.
        yield* client.multicast(service, command.groups, TYPED_MESS_TYPE, `${line}\n`)
        return "continue"
      }
      case "MultiLine": {
        terminal.print("enter message, end with an empty line:")
        let text = ""
        for (;;) {
          const line = yield* ask("> ")
          if (line === undefined) return "quit"
          if (line === "") break
          text += `${line}\n`
        }
        yield* client.multicast("safe", command.groups, TYPED_MESS_TYPE, text)
        return "continue"
      }
      case "Burst": {
        const countAnswer = yield* ask(`how many messages [${DEFAULT_BURST_COUNT}]: `)
        if (countAnswer === undefined) return "quit"
        const count = parseCount(countAnswer, DEFAULT_BURST_COUNT, MAX_BURST_COUNT)
        const sizeAnswer = yield* ask(`size of each message in bytes [${DEFAULT_BURST_BYTES}]: `)
        if (sizeAnswer === undefined) return "quit"
        const bytes = parseCount(sizeAnswer, DEFAULT_BURST_BYTES, MAX_MESSAGE_BODY_LEN)
        if (count === undefined || bytes === undefined) {
          yield* print(`a burst needs 1..${MAX_BURST_COUNT} messages of 1..${MAX_MESSAGE_BODY_LEN} bytes: nothing sent`)
          return "continue"
        }
        for (let i = 0; i < count; i++) {
          yield* client.multicast("fifo", command.group, BURST_MESS_TYPE, burstPayload(i, bytes))
        }
        yield* print(`sent ${count} FIFO messages of ${bytes} bytes to ${command.group}`)
        return "continue"
      }
      case "Receive": {
        if (threaded) {
          yield* notThreaded
          return "continue"
        }
        const message = yield* events.nextMessage
        yield* print(describeMessage(message))
        return "continue"
      }
      case "Poll": {
        if (threaded) {
          yield* notThreaded
          return "continue"
        }
        const waiting = yield* events.pending
        yield* print(`${waiting} messages wait to be received`)
        return "continue"
      }
      case "EnableAsync":
      case "DisableAsync":
        if (threaded) yield* notThreaded
        else {
          state.asyncPrint = command._tag === "EnableAsync"
          yield* print(state.asyncPrint ? "received messages now print as they arrive" : "received messages now wait for r")
        }
        return "continue"
      case "Help":
        yield* print(menu(threaded))
        return "continue"
      case "Invalid":
        yield* print(command.reason)
        return "continue"
      case "Nothing":
        return "continue"
      case "Quit":
        return "quit"
    }
  })
  return go.pipe(
    Effect.catchTags({
      IllegalGroup: (e) => Effect.as(reportCommandError(terminal)(e), "continue" as const),
      IllegalService: (e) => Effect.as(reportCommandError(terminal)(e), "continue" as const),
      MessageTooLong: (e) => Effect.as(reportCommandError(terminal)(e), "continue" as const)
    })
  )
}

/** Feeds everything the session delivers to `deliver`; its end (or failure) to `closed`. */
const pumpMessages = (
  client: SpreadClientService,
  deliver: (m: SpreadMessage) => void,
  closed: (error: ReceiveError) => void
) =>
  client.messages.pipe(
    Stream.runForEachArray((chunk) =>
      Effect.sync(() => {
        for (const m of chunk) deliver(m)
      })
    ),
    Effect.matchEffect({
      onFailure: (error) => Effect.sync(() => closed(error)),
      onSuccess: () => Effect.sync(() => closed(new ConnectionClosed({ reason: "the session ended" })))
    })
  )

/**
 * Runs one `spuser`/`sptuser` session; fails with the connect error, or with the error that
 * ended the session when the daemon goes away.
 *
 * @example
 * ```ts
 * runUser({ spreadName: "4803", privateName: "alice", receiveOnly: false, threaded: false })
 * ```
 */
export const runUser = (options: UserOptions): Effect.Effect<void, ConnectError | ReceiveError | SessionError> =>
  Effect.scoped(Effect.gen(function*() {
    const client = yield* SpreadClient.make({ spreadName: options.spreadName, privateName: options.privateName })
    const connected = `User: connected to ${options.spreadName} with private group ${client.privateGroup}`
    const printMessage = (terminal: UserTerminal) => (m: SpreadMessage) => terminal.print(describeMessage(m))

    if (options.receiveOnly) {
      outputOnly.print(connected)
      let failure: ReceiveError | undefined
      yield* pumpMessages(client, printMessage(outputOnly), (e) => (failure = e))
      if (failure !== undefined) return yield* Effect.fail(failure)
      return
    }

    // Unbounded on purpose: lines are what the user or the script typed, and messages are those
    // the session's (unbounded) inbox already holds; a bound here would only move them back there.
    const queue = yield* Queue.unbounded<UserEvent>()
    const offer = (e: UserEvent) => void Queue.offerUnsafe(queue, e)
    const terminal = yield* openTerminal(offer)
    const events = new Events(queue)
    terminal.print(connected)
    if (terminal.interactive) terminal.print(menu(options.threaded))
    const closed = (error: ReceiveError) => offer({ _tag: "Closed", error })
    yield* Effect.forkScoped(
      options.threaded
        ? pumpMessages(client, printMessage(terminal), closed)
        : pumpMessages(client, (message) => offer({ _tag: "Message", message }), closed)
    )

    const state = { asyncPrint: true }
    for (;;) {
      terminal.ask(PROMPT)
      const input = state.asyncPrint && !options.threaded
        ? yield* events.nextInputPrinting(printMessage(terminal))
        : yield* events.nextInput
      if (input._tag === "InputEnd") break
      const step = yield* runCommand(parseCommand(input.text), client, terminal, events, state, options.threaded)
      if (step === "quit") break
    }
    terminal.print("Bye.")
  }))
