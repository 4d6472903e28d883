/**
 * Standard input and output of `spuser`/`sptuser`: typed lines come in as events, text goes out.
 * On a terminal, readline edits the line and text printed while a question is open is written
 * above it, then the question and what was typed so far are shown again. From a pipe, lines are
 * read as they come and no questions are shown (a script does not need them).
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { clearLine, createInterface, cursorTo } from "node:readline"

export type InputEvent =
  | { readonly _tag: "Line"; readonly text: string }
  /** Standard input ended: Ctrl-D, or the end of a piped script. */
  | { readonly _tag: "InputEnd" }

export interface UserTerminal {
  /** Standard input is a terminal. */
  readonly interactive: boolean
  /** Prints text (one or more lines, without the final newline). */
  readonly print: (text: string) => void
  /** Shows a question (on a terminal only) before the next line is read. */
  readonly ask: (question: string) => void
}

/** Output only, for `spuser -r`: standard input is not read at all. */
export const outputOnly: UserTerminal = {
  interactive: false,
  print: (text) => void process.stdout.write(`${text}\n`),
  ask: () => undefined
}

/**
 * Reads standard input line by line into `onInput` until the scope closes.
 *
 * @example
 * ```ts
 * const terminal = yield* openTerminal((e) => Queue.offerUnsafe(events, e))
 * terminal.ask("User> ")
 * ```
 */
export const openTerminal = (onInput: (event: InputEvent) => void): Effect.Effect<UserTerminal, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const interactive = process.stdin.isTTY === true
      const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive })
      let asking = false
      rl.on("line", (text) => {
        asking = false
        onInput({ _tag: "Line", text })
      })
      rl.on("close", () => onInput({ _tag: "InputEnd" }))
      // In raw mode Ctrl-C reaches readline, not the process: turn it back into the signal the
      // runtime handles (interrupt, disconnect, exit).
      rl.on("SIGINT", () => process.kill(process.pid, "SIGINT"))
      const terminal: UserTerminal = {
        interactive,
        print: (text) => {
          if (interactive && asking) {
            clearLine(process.stdout, 0)
            cursorTo(process.stdout, 0)
            process.stdout.write(`${text}\n`)
            rl.prompt(true)
          } else {
            process.stdout.write(`${text}\n`)
          }
        },
        ask: (question) => {
          if (!interactive) return
          asking = true
          rl.setPrompt(question)
          rl.prompt()
        }
      }
      return { rl, terminal }
    }),
    ({ rl }) =>
      Effect.sync(() => {
        rl.removeAllListeners("close")
        rl.close()
      })
  ).pipe(Effect.map(({ terminal }) => terminal))
