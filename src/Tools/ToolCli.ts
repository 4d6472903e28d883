/**
 * What the tools' command lines share: the `-u`/`-s` flags, Spread's two-letter single-dash
 * flags, and running a command as the process's main program.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { readFileSync } from "node:fs"

/** `-s`: where the daemon is, as Spread spells it. */
export const spreadFlag = Flag.String("spread").pipe(
  Flag.withAlias("s"),
  Flag.withDescription("The daemon: 4803 (Unix socket /tmp/4803), 4803@host (TCP) or a socket path"),
  Flag.withDefault("4803")
)

/** `-u`: the private name (at most 10 characters, unique on the daemon). */
export const userFlag = (fallback: string) =>
  Flag.String("user").pipe(
    Flag.withAlias("u"),
    Flag.withDescription("Private name of the connection (at most 10 characters)"),
    Flag.withDefault(fallback)
  )

/**
 * Rewrites Spread's single-dash multi-letter flags (`-ro`, `-wo`) to their long form.
 * Effect's CLI lexer reads `-ro` as the cluster `-r -o` (POSIX style), and an alias cannot
 * change that, so these exact words are mapped before parsing; nothing else is touched.
 *
 * @example
 * ```ts
 * spreadStyleArgs(["-ro", "-m", "10"], { "-ro": "--receive-only" }) // ["--receive-only", "-m", "10"]
 * ```
 */
export const spreadStyleArgs = (
  args: ReadonlyArray<string>,
  words: Readonly<Record<string, string>>
): ReadonlyArray<string> => {
  const end = args.indexOf("--")
  return args.map((a, i) => (end !== -1 && i > end ? a : words[a] ?? a))
}

const version = (): string => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    return typeof pkg === "object" && pkg !== null && "version" in pkg && typeof pkg.version === "string" ? pkg.version : "0"
  } catch {
    return "0"
  }
}

/** An error the tool reports in one line as `tool: message`, then exits with status 1. */
const report = (tool: string) => (e: unknown) =>
  CliError.isCliError(e)
    ? Effect.void // the CLI module has printed the usage error and the help already
    : Console.error(`${tool}: ${e instanceof Error ? e.message : String(e)}`)

/**
 * Parses `args` with `command` and runs it as the main program: Ctrl-C or SIGTERM interrupts it
 * (closing its session), a failure prints one line and exits 1.
 */
export const runTool = <Name extends string, Input, E>(
  command: Command.Command<Name, Input, {}, E, Command.Environment>,
  args: ReadonlyArray<string>
): void =>
  Command.runWith(command, { version: version() })(args).pipe(
    Effect.tapError(report(command.name)),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )
