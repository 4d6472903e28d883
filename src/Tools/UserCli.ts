/**
 * The command line shared by `spuser` and `sptuser` (Spread's `-u`, `-s`, `-r`).
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { runTool, spreadFlag, userFlag } from "./ToolCli.js"
import { runUser } from "./UserSession.js"

/** Spread's user program calls itself `user` unless told otherwise. */
const DEFAULT_USER = "user"

/**
 * The `spuser` (`threaded` false) or `sptuser` command.
 *
 * @example
 * ```ts
 * runTool(userCommand("spuser", false), process.argv.slice(2))
 * ```
 */
export const userCommand = <Name extends string>(name: Name, threaded: boolean) =>
  Command.make(
    name,
    {
      user: userFlag(DEFAULT_USER),
      spread: spreadFlag,
      receiveOnly: Flag.Boolean("receive-only").pipe(
        Flag.withAlias("r"),
        Flag.withDescription("Only print what arrives; do not read standard input"),
        Flag.withDefault(false)
      )
    },
    ({ receiveOnly, spread, user }) => runUser({ spreadName: spread, privateName: user, receiveOnly, threaded })
  ).pipe(
    Command.withDescription(
      threaded
        ? "Interactive Spread client whose received messages print as they arrive, even while you type"
        : "Interactive Spread client: join and leave groups, send and receive messages (? for the commands)"
    ),
    Command.withExamples([
      { command: `${name} -u alice -s 4803`, description: "connect to the daemon on /tmp/4803 as alice" },
      { command: `printf 'j chat\\nr\\nq\\n' | ${name} -s 4803@localhost`, description: "run a script over TCP" }
    ])
  )

/** Runs `spuser` or `sptuser` with the process's arguments. */
export const main = (name: "spuser" | "sptuser"): void => runTool(userCommand(name, name === "sptuser"), process.argv.slice(2))
