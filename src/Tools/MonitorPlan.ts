/**
 * What `spmonitor` is asked to do, worked out from its flags and the configuration before any
 * datagram is sent (daemon-protocol §10): the command, the daemons it goes to, the request each
 * gets, and the local address to send from. Pure: flags and configuration in, a plan or a
 * {@link MonitorUsage} out.
 */
import * as Data from "effect/Data"
import { sameAddress } from "../Config/Address.js"
import type { DaemonEntry, SpreadConfig } from "../Config/Model.js"
import { MAX_I16, type MonitorRequest } from "../Protocol/Ring/Monitor.js"

/** A command line `spmonitor` cannot carry out; printed as `spmonitor: message`, exit status 1. */
export class MonitorUsage extends Data.TaggedError("MonitorUsage")<{ readonly message: string }> {}

const usage = (message: string): MonitorUsage => new MonitorUsage({ message })

/** The flags that choose the command (absent = not given). */
export interface MonitorFlags {
  readonly name: string | undefined
  readonly status: boolean
  readonly intervalMs: number | undefined
  readonly window: number | undefined
  readonly personalWindow: number | undefined
  readonly acceleratedWindow: number | undefined
  readonly partition: string | undefined
  readonly clearPartition: boolean
  readonly kill: string | undefined
  readonly reload: boolean
  readonly timeoutMs: number
}

export type MonitorCommand =
  | { readonly _tag: "Status" }
  | { readonly _tag: "FlowControl"; readonly window: number | null; readonly personal: number | null; readonly accelerated: number | null }
  | { readonly _tag: "Partition"; readonly components: ReadonlyArray<number> }
  | { readonly _tag: "Reload" }
  | { readonly _tag: "Kill"; readonly target: DaemonEntry }

export interface MonitorPlan {
  readonly command: MonitorCommand
  /** The daemons asked, in rank order. */
  readonly targets: ReadonlyArray<DaemonEntry>
  /** Repeat a status round every this many ms; `undefined` = once. */
  readonly intervalMs: number | undefined
  readonly timeoutMs: number
}

const isNonNegativeI16 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= MAX_I16

/** `0,0,1` → one component per configured daemon, rank order (§10 `MON_PARTITION`). */
export const parsePartition = (text: string, daemons: number): ReadonlyArray<number> | MonitorUsage => {
  const parts = text.split(",").map((p) => p.trim())
  const components = parts.map(Number)
  if (parts.some((p) => !/^\d+$/.test(p)) || !components.every(isNonNegativeI16)) {
    return usage(`--partition takes comma-separated component numbers 0..${MAX_I16}, one per daemon (got "${text}")`)
  }
  if (components.length !== daemons) {
    return usage(`--partition names ${components.length} components; the configuration has ${daemons} daemons (one each, in file order)`)
  }
  return components
}

const flowControl = (f: MonitorFlags): MonitorCommand | MonitorUsage => {
  const given = [f.window, f.personalWindow, f.acceleratedWindow]
  if (given.some((v) => v !== undefined && !isNonNegativeI16(v))) return usage(`window sizes are whole numbers 0..${MAX_I16}`)
  return { _tag: "FlowControl", window: f.window ?? null, personal: f.personalWindow ?? null, accelerated: f.acceleratedWindow ?? null }
}

const daemonNamed = (config: SpreadConfig, name: string, flag: string): DaemonEntry | MonitorUsage =>
  config.daemons.find((d) => d.name === name) ??
    usage(`${flag}: no daemon named "${name}" in the configuration (daemons: ${config.daemons.map((d) => d.name).join(", ")})`)

/** The one command the flags ask for; none = a status round. */
const chooseCommand = (f: MonitorFlags, config: SpreadConfig): MonitorCommand | MonitorUsage => {
  const chosen = [
    f.status || f.intervalMs !== undefined ? "--status/--interval" : undefined,
    [f.window, f.personalWindow, f.acceleratedWindow].some((v) => v !== undefined) ? "--window" : undefined,
    f.partition !== undefined ? "--partition" : undefined,
    f.clearPartition ? "--clear-partition" : undefined,
    f.kill !== undefined ? "--kill" : undefined,
    f.reload ? "--reload" : undefined
  ].filter((c) => c !== undefined)
  if (chosen.length > 1) return usage(`choose one command, not ${chosen.join(" and ")}`)
  if (f.partition !== undefined) {
    const components = parsePartition(f.partition, config.daemons.length)
    return components instanceof MonitorUsage ? components : { _tag: "Partition", components }
  }
  if (f.clearPartition) return { _tag: "Partition", components: config.daemons.map(() => 0) }
  if (f.kill !== undefined) {
    const target = daemonNamed(config, f.kill, "--kill")
    return target instanceof MonitorUsage ? target : { _tag: "Kill", target }
  }
  if (f.reload) return { _tag: "Reload" }
  if (chosen.length === 1 && chosen[0] === "--window") return flowControl(f)
  return { _tag: "Status" }
}

/**
 * The plan for `flags`, or a usage message.
 *
 * @example
 * ```ts
 * planMonitor({ ...flags, partition: "0,0,1" }, config) // { command: { _tag: "Partition", ... }, targets: all, ... }
 * ```
 */
export const planMonitor = (f: MonitorFlags, config: SpreadConfig): MonitorPlan | MonitorUsage => {
  if (!(f.timeoutMs > 0)) return usage("--timeout needs a positive number of milliseconds")
  if (f.intervalMs !== undefined && !(f.intervalMs > 0)) return usage("--interval needs a positive number of milliseconds")
  const command = chooseCommand(f, config)
  if (command instanceof MonitorUsage) return command
  let targets: ReadonlyArray<DaemonEntry> = config.daemons
  if (f.name !== undefined) {
    const one = daemonNamed(config, f.name, "-n")
    if (one instanceof MonitorUsage) return one
    targets = [one]
  }
  if (command._tag === "Kill") {
    if (f.name !== undefined && f.name !== command.target.name) return usage("-n and --kill name different daemons")
    targets = [command.target]
  }
  const unaddressed = targets.find((d) => d.address === null)
  if (unaddressed !== undefined) return usage(`daemon ${unaddressed.name} has no address`)
  return { command, targets, intervalMs: f.intervalMs, timeoutMs: f.timeoutMs }
}

/**
 * The request `plan` sends to every target, for one reply port and nonce. A flow-control
 * request sets the per-daemon windows of the targets only (−1 = unchanged for the others).
 */
export const monitorRequest = (
  plan: MonitorPlan,
  config: SpreadConfig,
  replyPort: number,
  nonce: number
): MonitorRequest => {
  const c = plan.command
  switch (c._tag) {
    case "Status":
      return { _tag: "MON_STATUS_REQUEST", replyPort, nonce }
    case "Reload":
      return { _tag: "MON_RELOAD", replyPort, nonce }
    case "Partition":
      return { _tag: "MON_PARTITION", replyPort, nonce, components: c.components }
    case "Kill":
      return { _tag: "MON_KILL", replyPort, nonce, targets: [c.target.id] }
    case "FlowControl": {
      const targeted = new Set(plan.targets.map((d) => d.id))
      return {
        _tag: "MON_FLOW_CONTROL",
        replyPort,
        nonce,
        window: c.window,
        perDaemon: config.daemons.map((d) =>
          targeted.has(d.id)
            ? { personalWindow: c.personal, acceleratedWindow: c.accelerated }
            : { personalWindow: null, acceleratedWindow: null }
        )
      }
    }
  }
}

/** IPv4 127.0.0.0/8 and IPv6 ::1 are this host's whether or not an interface lists them. */
const isLoopback = (address: string): boolean => address.startsWith("127.") || sameAddress(address, "::1")

/**
 * The address `spmonitor` sends from. §10: a daemon answers only requests whose source IP is a
 * configured daemon's, so it must be one: `--bind`, which must be configured, or else the first
 * configured daemon address (rank order) that is an address of this machine.
 */
export const chooseBindAddress = (
  config: SpreadConfig,
  localAddresses: ReadonlyArray<string>,
  bind: string | undefined
): string | MonitorUsage => {
  const configured = config.daemons.flatMap((d) => (d.address === null ? [] : [d.address]))
  if (bind !== undefined) {
    return configured.some((a) => sameAddress(a, bind)) ? bind : usage(
      `--bind ${bind} is not the address of a configured daemon: ` +
        `daemons answer only monitors on a configured daemon's address (${configured.join(", ")})`
    )
  }
  const local = configured.find((a) => isLoopback(a) || localAddresses.some((l) => sameAddress(l, a)))
  if (local !== undefined) return local
  return usage(
    `no configured daemon address (${configured.join(", ")}) is an address of this machine: ` +
      `run spmonitor on a daemon's host, or give --bind`
  )
}
