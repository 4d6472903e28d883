/**
 * The `spmonitor` program (daemon-protocol §10): asks the daemons of a configuration for their
 * status, or changes their flow control, partition, configuration or life. `spmonitor -c
 * spread.conf` prints every daemon's status once; `--interval` keeps refreshing it.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { networkInterfaces } from "node:os"
import { configHash, loadConfig } from "../Config/index.js"
import { monitorKeyBytes } from "../Protocol/Ring/Monitor.js"
import { exitStatus, formatCommandRound, formatJsonRound, formatStatusRound, nameLookup } from "./MonitorFormat.js"
import { chooseBindAddress, type MonitorCommand, MonitorUsage, monitorRequest, planMonitor } from "./MonitorPlan.js"
import { openMonitorSocket } from "./MonitorSocket.js"
import { runTool } from "./ToolCli.js"

/** `--interval` without a value: Spread's spmonitor default of one status a second. */
const DEFAULT_INTERVAL_MS = 1000
/** How long to wait for the replies of a round, unless `--timeout` says otherwise. */
const DEFAULT_TIMEOUT_MS = 1000
/** Clears a terminal between status refreshes. */
const CLEAR_SCREEN = "\x1b[H\x1b[2J"

const optionalInt = (name: string, description: string) =>
  Flag.Int(name).pipe(Flag.withDescription(description), Flag.optional)

const commandWords: { readonly [K in MonitorCommand["_tag"]]: string } = {
  Status: "status",
  FlowControl: "flow control",
  Partition: "partition",
  Reload: "reload",
  Kill: "kill"
}

const localAddresses = (): ReadonlyArray<string> =>
  Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))

const orUndefined = <A>(o: Option.Option<A>): A | undefined => Option.getOrUndefined(o)

/** The `spmonitor` command: its flags, help and handler. */
export const spmonitor = Command.make(
  "spmonitor",
  {
    config: Flag.String("config").pipe(
      Flag.withAlias("c"),
      Flag.withDescription("The spread.conf of the daemons (their addresses, ids, hash and MonitorKey)")
    ),
    name: Flag.String("name").pipe(Flag.withAlias("n"), Flag.withDescription("Only this daemon (default: all)"), Flag.optional),
    status: Flag.Boolean("status").pipe(Flag.withDescription("Print every daemon's status once (the default)"), Flag.withDefault(false)),
    interval: Flag.Int("interval").pipe(
      Flag.withDescription(`Print the status every N ms until interrupted (--interval alone: ${DEFAULT_INTERVAL_MS})`),
      Flag.withOptionalValue(String(DEFAULT_INTERVAL_MS)),
      Flag.optional
    ),
    window: optionalInt("window", "Set Window (flow control; needs DangerousMonitor)"),
    personalWindow: optionalInt("personal-window", "Set PersonalWindow of the daemons asked"),
    acceleratedWindow: optionalInt("accelerated-window", "Set AcceleratedWindow of the daemons asked"),
    partition: Flag.String("partition").pipe(
      Flag.withDescription("Partition the daemons: a component number per configured daemon in file order, e.g. 0,0,1"),
      Flag.optional
    ),
    clearPartition: Flag.Boolean("clear-partition").pipe(Flag.withDescription("Lift a partition"), Flag.withDefault(false)),
    kill: Flag.String("kill").pipe(Flag.withDescription("Make the named daemon exit"), Flag.optional),
    reload: Flag.Boolean("reload").pipe(Flag.withDescription("Make the daemons re-read their configuration"), Flag.withDefault(false)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("One JSON line per round"), Flag.withDefault(false)),
    timeout: Flag.Int("timeout").pipe(Flag.withDescription("Milliseconds to wait for replies"), Flag.withDefault(DEFAULT_TIMEOUT_MS)),
    bind: Flag.String("bind").pipe(
      Flag.withDescription("Send from this configured daemon address (default: the first one of this machine)"),
      Flag.optional
    )
  },
  Effect.fn(function*(o) {
    const config = yield* loadConfig(o.config)
    const plan = planMonitor({
      name: orUndefined(o.name),
      status: o.status,
      intervalMs: orUndefined(o.interval),
      window: orUndefined(o.window),
      personalWindow: orUndefined(o.personalWindow),
      acceleratedWindow: orUndefined(o.acceleratedWindow),
      partition: orUndefined(o.partition),
      clearPartition: o.clearPartition,
      kill: orUndefined(o.kill),
      reload: o.reload,
      timeoutMs: o.timeout
    }, config)
    if (plan instanceof MonitorUsage) return yield* plan
    const bindAddress = chooseBindAddress(config, localAddresses(), orUndefined(o.bind))
    if (bindAddress instanceof MonitorUsage) return yield* bindAddress
    const key = config.access.monitorKey === null ? undefined : monitorKeyBytes(config.access.monitorKey)
    const socket = yield* openMonitorSocket({ bindAddress, configHash: configHash(config), key })
    const nameOf = nameLookup(config.daemons)
    const clear = process.stdout.isTTY === true && !o.json

    const round = Effect.gen(function*() {
      const results = yield* socket.round(plan.targets, (nonce) => monitorRequest(plan, config, socket.port, nonce), plan.timeoutMs)
      const text = o.json
        ? formatJsonRound(results)
        : plan.command._tag === "Status"
        ? formatStatusRound(results, nameOf, plan.timeoutMs)
        : formatCommandRound(commandWords[plan.command._tag], results, plan.timeoutMs)
      yield* Console.log(text)
      return exitStatus(results)
    })

    if (plan.intervalMs === undefined) {
      process.exitCode = yield* round
      return
    }
    const every = plan.intervalMs
    return yield* Effect.forever(
      Effect.gen(function*() {
        if (clear) process.stdout.write(CLEAR_SCREEN)
        else if (!o.json) yield* Console.log(`--- ${new Date().toISOString()}`)
        yield* round
        yield* Effect.sleep(every)
      })
    )
  }, Effect.scoped)
).pipe(
  Command.withDescription("Show the status of Spread daemons, or change their flow control, partition, configuration or life"),
  Command.withExamples([
    { command: "spmonitor -c spread.conf", description: "every daemon's status, once" },
    { command: "spmonitor -c spread.conf -n node2 --interval", description: "node2's status every second" },
    { command: "spmonitor -c spread.conf --partition 0,0,1", description: "cut the third daemon off (DangerousMonitor)" },
    { command: "spmonitor -c spread.conf --window 200 --personal-window 40", description: "change the flow-control windows" }
  ])
)

/**
 * `--interval 500` → `--interval=500`: the flag takes an optional value, which Effect's CLI
 * reads only when attached with `=`; a separate number after it is taken as its value too.
 */
export const attachIntervalValue = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const next = args[i + 1]
    if (a === "--interval" && next !== undefined && /^\d+$/.test(next)) {
      out.push(`--interval=${next}`)
      i++
    } else out.push(a)
  }
  return out
}

/** Runs `spmonitor` with the process's arguments. */
export const main = (): void => runTool(spmonitor, attachIntervalValue(process.argv.slice(2)))
