/**
 * Drives the built tools (`dist/Tools/*.js`, from `npm run build`) as a user would: with piped
 * standard input, or on a pseudo-terminal made by util-linux `script`.
 */
import { Effect, Stream } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { SpreadClient, type SpreadMessage } from "../../src/Client/index.js"

export type ToolName = "spuser" | "sptuser" | "spflooder"

export const toolPath = (name: ToolName): string => fileURLToPath(new URL(`../../dist/Tools/${name}.js`, import.meta.url))

export interface RunningTool {
  readonly process: ChildProcess
  /** Standard output so far (on a pty: everything the terminal showed). */
  readonly output: () => string
  readonly errors: () => string
  readonly write: (text: string) => void
  readonly closeInput: () => void
  /** Resolves with the output once it matches, from `from` on; rejects after `timeoutMs`. */
  readonly waitFor: (pattern: RegExp | string, options?: { readonly from?: number; readonly timeoutMs?: number }) => Promise<string>
  readonly exited: Promise<number | null>
}

// Terminal control sequences readline writes (cursor moves, line clears), removed for matching.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g

export const plain = (text: string): string => text.replace(ANSI, "").replace(/\r/g, "")

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`

/**
 * Starts a tool. With `pty`, it runs under `script -qfc` so its standard input and output are a
 * terminal of 120 columns; `output()` is then what the terminal showed, echo included.
 */
export const startTool = (name: ToolName, args: ReadonlyArray<string>, options: { readonly pty?: boolean } = {}): RunningTool => {
  const child = options.pty === true
    ? spawn("script", ["-qfc", `stty cols 120 rows 40; exec ${[process.execPath, toolPath(name), ...args].map(quote).join(" ")}`, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"]
    })
    : spawn(process.execPath, [toolPath(name), ...args], { stdio: ["pipe", "pipe", "pipe"] })
  let out = ""
  let err = ""
  const waiters = new Set<() => void>()
  const wake = () => waiters.forEach((w) => w())
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString()
    wake()
  })
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString()
    wake()
  })
  child.stdin!.on("error", () => undefined) // the tool may quit before reading everything
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)))
  const output = () => plain(out)
  return {
    process: child,
    output,
    errors: () => err,
    write: (text) => void child.stdin!.write(text),
    closeInput: () => void child.stdin!.end(),
    exited,
    waitFor: (pattern, o = {}) =>
      new Promise((resolve, reject) => {
        const matches = () => {
          const text = output().slice(o.from ?? 0)
          return typeof pattern === "string" ? text.includes(pattern) : pattern.test(text)
        }
        const check = () => {
          if (!matches()) return
          cleanup()
          resolve(output())
        }
        const timer = setTimeout(() => {
          cleanup()
          reject(new Error(`no ${String(pattern)} within ${o.timeoutMs ?? 8000} ms; output:\n${output()}\nerrors:\n${err}`))
        }, o.timeoutMs ?? 8000)
        const cleanup = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        void exited.then(check)
        check()
      })
  }
}

export interface ToolResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a tool to its end with `input` piped to its standard input. */
export const runTool = async (
  name: ToolName,
  args: ReadonlyArray<string>,
  input = "",
  timeoutMs = 15_000
): Promise<ToolResult> => {
  const tool = startTool(name, args)
  tool.write(input)
  tool.closeInput()
  const timer = setTimeout(() => tool.process.kill("SIGKILL"), timeoutMs)
  const code = await tool.exited
  clearTimeout(timer)
  return { code, stdout: tool.output(), stderr: tool.errors() }
}

/** Sends one message with our client, as another user of the daemon would. */
export const sendAs = (spreadName: string, privateName: string, group: string, text: string): Promise<void> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const client = yield* SpreadClient.make({ spreadName, privateName })
    yield* client.multicast("agreed", group, 5, text)
  })))

/**
 * Joins `group` and resolves once a membership of it lists `member` (a tool has joined), then
 * leaves. Used to start senders only after a receiver is in the group.
 */
export const waitForMember = (spreadName: string, group: string, member: string): Promise<void> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const client = yield* SpreadClient.make({ spreadName, privateName: `w${Math.floor(Math.random() * 1e6)}` })
    yield* client.join(group)
    yield* client.messages.pipe(
      Stream.takeUntil((m: SpreadMessage) => m._tag === "Membership" && m.members.includes(member)),
      Stream.runDrain
    )
  })).pipe(Effect.timeout("8 seconds")))
