/**
 * Simulated hosts for multi-daemon tests: one Linux network namespace per host, all plugged into
 * a bridge that lives in a "switch" namespace of its own. The root namespace gains nothing but
 * the namespace names (`/run/netns/*`): every veth and bridge is created directly inside the
 * switch and host namespaces, so a crashed run cannot leave interfaces on the machine, and the
 * link names (`h1`, `br0`, `eth0`) never meet those of another run.
 *
 * Needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN), iproute2's `ip` and util-linux's `unshare`;
 * {@link netnsAvailable} says why not when they are missing, for `describe.skipIf`.
 *
 * @example
 * const available = netnsAvailable()
 * describe.skipIf(!available.ok)(`three hosts${available.ok ? "" : ` (skipped: ${available.reason})`}`, () => {
 *   const network = useNetwork({ hosts: 3 })
 *   it("survives a 2|1 partition", async () => {
 *     const net = network()
 *     const conf = spreadConf(net, { port: 4803 })
 *     const daemons = await Promise.all(net.hosts.map((h) => net.startDaemon(h.index, { configText: conf, name: h.name })))
 *     net.isolate([[0, 1], [2]])
 *     // ... connect clients to daemons[i].unixPath, check memberships ...
 *     net.heal()
 *   })
 * })
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { createWriteStream, mkdirSync, readdirSync, realpathSync, rmSync, type WriteStream, writeFileSync } from "node:fs"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { threadId } from "node:worker_threads"
import { afterAll, beforeAll } from "vitest"
import { parseConfig } from "../../src/Config/index.ts"
import { MAIN, sleep } from "./daemon.ts"

/** Namespaces and run directories are named `<prefix>-<pid>-<thread>-<counter>…`. */
const DEFAULT_PREFIX = "spreadts"

/** Kept in memory per process (the whole output is in its log file): enough for any assertion. */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024

/** How long a daemon may take to accept clients: a cold Node start on a loaded CI machine. */
const DAEMON_READY_TIMEOUT_MS = 15_000

/** How long `destroy` waits after SIGTERM before SIGKILL (the daemon closes sessions first). */
const STOP_GRACE_MS = 3_000

/** Set to keep the run directory (configurations and logs) after `destroy`, for post-mortems. */
const KEEP_ENV = "SPREAD_NETNS_KEEP"

// ---------------------------------------------------------------------------------------------
// Shell-free command helpers
// ---------------------------------------------------------------------------------------------

/** Runs a command synchronously; throws with its stderr (not just "exit status 1") on failure. */
const run = (file: string, args: ReadonlyArray<string>): string => {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  } catch (e) {
    const stderr = e instanceof Error && "stderr" in e ? String(e.stderr).trim() : ""
    const reason = stderr !== "" ? stderr : e instanceof Error ? e.message : String(e)
    throw new Error(`${file} ${args.join(" ")}: ${reason}`)
  }
}

const ip = (...args: ReadonlyArray<string>): string => run("ip", args)

/** Like {@link run} but for cleanup paths: a failure is reported, never thrown. */
const tryRun = (file: string, args: ReadonlyArray<string>): boolean => {
  try {
    execFileSync(file, args, { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists but is not ours to signal — still alive.
    return e instanceof Error && "code" in e && e.code === "EPERM"
  }
}

/** Names in `ip netns list`, whose lines read `name` or `name (id: 3)`. */
const listNamespaces = (): ReadonlyArray<string> =>
  ip("netns", "list").split("\n").map((line) => line.trim().split(" ")[0]!).filter((name) => name !== "")

/**
 * Deletes a namespace after killing whatever still runs in it: deleting only removes the name,
 * and the namespace (with its veths) lives on as long as a process is inside.
 */
const deleteNamespace = (ns: string): void => {
  try {
    const pids = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
    for (const pid of pids.split(/\s+/).filter((p) => p !== "")) {
      try {
        process.kill(Number(pid), "SIGKILL")
      } catch {
        // Already gone.
      }
    }
  } catch {
    // No such namespace any more.
  }
  tryRun("ip", ["netns", "delete", ns])
}

// ---------------------------------------------------------------------------------------------
// Availability
// ---------------------------------------------------------------------------------------------

export type NetnsAvailability = { readonly ok: true } | { readonly ok: false; readonly reason: string }

let availability: NetnsAvailability | undefined

/**
 * Whether this machine lets us build networks: Linux, `ip` and `unshare` present, and the kernel
 * grants a namespace, a bridge in it and a private bind mount over /tmp (the exact operations
 * {@link createNetwork} and `startDaemon` use). Synchronous and cached, so it can decide a
 * `describe.skipIf` while tests are collected.
 */
export const netnsAvailable = (): NetnsAvailability => {
  if (availability !== undefined) return availability
  availability = probe()
  return availability
}

const probe = (): NetnsAvailability => {
  if (process.platform !== "linux") return { ok: false, reason: `network namespaces need Linux, not ${process.platform}` }
  for (const [tool, args, pkg] of [["ip", ["-V"], "iproute2"], ["unshare", ["--version"], "util-linux"]] as const) {
    if (!tryRun(tool, args)) return { ok: false, reason: `\`${tool}\` (${pkg}) is not installed` }
  }
  // Counter 0, never a network's: named like them so the stale sweep also removes a leftover.
  const ns = `${DEFAULT_PREFIX}-${process.pid}-${threadId}-0-probe`
  const dir = join(tmpdir(), ns)
  try {
    mkdirSync(dir, { recursive: true })
    ip("netns", "add", ns)
    ip("-n", ns, "link", "add", "br0", "type", "bridge")
    run("ip", ["netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", "mount --bind \"$1\" /tmp", "sh", dir])
    return { ok: true }
  } catch (e) {
    const uid = process.getuid?.()
    return { ok: false, reason: `${e instanceof Error ? e.message : String(e)} (uid ${uid ?? "?"})` }
  } finally {
    if (listNamespacesSafe().includes(ns)) deleteNamespace(ns)
    rmSync(dir, { recursive: true, force: true })
  }
}

const listNamespacesSafe = (): ReadonlyArray<string> => {
  try {
    return listNamespaces()
  } catch {
    return []
  }
}

// ---------------------------------------------------------------------------------------------
// Processes inside a host
// ---------------------------------------------------------------------------------------------

export interface ProcessExit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** A process started inside a host's namespace; `destroy` kills it if it is still running. */
export interface HostProcess {
  /** Index of the host it runs in. */
  readonly host: number
  readonly pid: number | undefined
  /** Everything it wrote to stdout and stderr, interleaved (also in `logFile`). */
  readonly output: () => string
  readonly logFile: string
  /** Resolves with the first match in the output so far or to come; rejects on timeout or exit. */
  readonly waitForOutput: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>
  /** Sends a signal (default SIGTERM; SIGKILL for crash tests). A no-op once it has exited. */
  readonly kill: (signal?: NodeJS.Signals) => void
  readonly running: () => boolean
  readonly exited: Promise<ProcessExit>
}

export interface NetnsDaemon extends HostProcess {
  readonly name: string
  readonly port: number
  /** The daemon's `/tmp/<port>` as seen from the test process; use it as the client's `spreadName`. */
  readonly unixPath: string
  /** The configuration as written in the run directory (the daemon reads it as /tmp/…). */
  readonly configPath: string
  /** SIGTERM, then the exit (a clean stop exits 0). */
  readonly stop: () => Promise<ProcessExit>
}

export interface ExecResult extends ProcessExit {
  readonly stdout: string
  readonly stderr: string
}

export interface Host {
  /** 0-based; host i has address 10.k.0.(i+1) and the default daemon name n(i+1). */
  readonly index: number
  /** `n1`, `n2`, …: the daemon name {@link spreadConf} gives it. */
  readonly name: string
  readonly ns: string
  readonly address: string
  /** Its IPv6 address on the same link, `fd00:0:0:k::(i+1)` (a unique local address). */
  readonly address6: string
  /** Becomes the host's /tmp inside daemons started by `startDaemon`; holds its Unix sockets. */
  readonly dir: string
}

export interface StartDaemonOptions {
  /** The spread.conf text, for instance from {@link spreadConf}. */
  readonly configText: string
  /** `-n`: the daemon's entry in the configuration. */
  readonly name: string
  /** `-p`; default: the port of the daemon's segment in the configuration. */
  readonly port?: number
  /** More flags, e.g. `["--log-level", "Debug"]`. */
  readonly args?: ReadonlyArray<string>
  readonly readyTimeoutMs?: number
}

/** How a cut host loses the network: its switch port leaves the bridge, or goes down. */
export type CutMode = "detach" | "down"

export interface Network {
  /** `<prefix>-<pid>-<thread>-<counter>`: the stem of every name this network made. */
  readonly id: string
  readonly hosts: ReadonlyArray<Host>
  /** `10.k.0.0/24`. */
  readonly subnet: string
  /** `10.k.0.255`, the segment address {@link spreadConf} writes. */
  readonly broadcast: string
  readonly switchNs: string
  /** Configurations, per-host /tmp directories and process logs. */
  readonly runDir: string
  /** Runs a command to completion inside host i (no shell; nonzero exits resolve, not reject). */
  readonly exec: (i: number, argv: ReadonlyArray<string>, options?: { readonly timeoutMs?: number }) => Promise<ExecResult>
  /** Starts a long-running command inside host i (no private /tmp); tracked for `destroy`. */
  readonly spawn: (i: number, argv: ReadonlyArray<string>, options?: { readonly label?: string }) => HostProcess
  /** Starts `spread` inside host i with its own /tmp and waits until its Unix socket accepts. */
  readonly startDaemon: (i: number, options: StartDaemonOptions) => Promise<NetnsDaemon>
  /** Cuts host i off: by default its switch port leaves the bridge (carrier stays up, like a
   * remote failure); `"down"` drops the carrier as a pulled cable would. */
  readonly cutLink: (i: number, mode?: CutMode) => void
  /** Plugs host i back into the main bridge, up. */
  readonly restoreLink: (i: number) => void
  /**
   * Partitions the network: each group of host indices gets a bridge of its own; hosts named in
   * no group are cut off. `isolate([[0, 1], [2]])` is a 2|1 partition.
   */
  readonly isolate: (groups: ReadonlyArray<ReadonlyArray<number>>) => void
  /** Every host back on the main bridge, every link up. */
  readonly heal: () => void
  /** Kills every process, deletes every namespace (and with them every veth and bridge). */
  readonly destroy: () => Promise<void>
}

export interface NetworkOptions {
  readonly hosts: number
  /** Namespace and directory name prefix; stale leftovers of dead processes with it are removed. */
  readonly prefix?: string
  /** MTU of every link (default the kernel's, 1500); 9000 for a jumbo-frame LAN. */
  readonly mtu?: number
}

interface Tracked {
  readonly child: ChildProcess
  readonly exited: Promise<ProcessExit>
}

/** Starts `argv` (already wrapped in `ip netns exec`), collecting output into memory and a log. */
const startProcess = (
  host: number,
  argv: ReadonlyArray<string>,
  logFile: string,
  track: (t: Tracked) => void
): HostProcess => {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], cwd: "/" })
  const log: WriteStream = createWriteStream(logFile)
  let output = ""
  /** Pending `waitForOutput` checks, run on every chunk. */
  const listeners = new Set<() => void>()
  const append = (chunk: Buffer): void => {
    log.write(chunk)
    output += chunk.toString()
    if (output.length > MAX_OUTPUT_CHARS) output = output.slice(output.length - MAX_OUTPUT_CHARS)
    for (const listener of listeners) listener()
  }
  child.stdout.on("data", append)
  child.stderr.on("data", append)
  const exited = new Promise<ProcessExit>((resolve) => {
    // "close", not "exit": the pipes are drained by then, so output() is complete.
    child.once("close", (code, signal) => {
      log.end()
      resolve({ code, signal })
    })
    child.once("error", (e) => {
      append(Buffer.from(`spawn failed: ${e.message}\n`))
      log.end()
      resolve({ code: null, signal: null })
    })
  })
  track({ child, exited })
  const running = (): boolean => child.exitCode === null && child.signalCode === null

  const waitForOutput = (pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      // Without /g and /y, so no lastIndex carries over between checks.
      const regex = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""))
      const finish = (): void => {
        clearTimeout(timer)
        listeners.delete(check)
      }
      const check = (): boolean => {
        const match = regex.exec(output)
        if (match === null) return false
        finish()
        resolve(match)
        return true
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`no ${pattern} in the output of host ${host} after ${timeoutMs} ms:\n${output.slice(-4000)}`))
      }, timeoutMs)
      if (check()) return
      listeners.add(check)
      void exited.then((exit) => {
        if (!listeners.has(check) || check()) return
        finish()
        reject(new Error(`host ${host}: the process exited (${exit.code ?? exit.signal}) without printing ${pattern}:\n${output.slice(-4000)}`))
      })
    })

  return {
    host,
    pid: child.pid,
    output: () => output,
    logFile,
    waitForOutput,
    kill: (signal = "SIGTERM") => {
      if (running()) child.kill(signal)
    },
    running,
    exited
  }
}

const canConnectUnix = (path: string): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ path })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/**
 * The daemon sees its host directory as /tmp. What it needs from the real /tmp (a checkout under
 * /tmp, as `mktemp -d` gives; a node there) is mounted back at the same path: these are the
 * top-level /tmp entries holding them.
 */
const tmpEntriesOf = (paths: ReadonlyArray<string>): ReadonlyArray<string> => {
  const entries = new Set<string>()
  for (const path of paths) {
    const real = realpathSync(path)
    if (real.startsWith("/tmp/")) entries.add(real.slice("/tmp/".length).split("/")[0]!)
  }
  for (const e of entries) if (!/^[A-Za-z0-9._-]+$/.test(e)) throw new Error(`/tmp/${e}: an unusual name the daemon launcher does not handle`)
  return [...entries]
}

/**
 * Runs in the daemon's private mount namespace: the real /tmp is set aside on /mnt (only inside
 * that namespace), the host directory becomes /tmp, and the kept entries come back from /mnt.
 * Arguments: the host directory, the kept entries (space-separated), then the command.
 */
const LAUNCH_SCRIPT = [
  "dir=\"$1\"; keep=\"$2\"; shift 2",
  "if [ -n \"$keep\" ]; then mount --bind /tmp /mnt || exit 1; fi",
  "mount --bind \"$dir\" /tmp || exit 1",
  "for k in $keep; do mkdir -p \"/tmp/$k\" && mount --bind \"/mnt/$k\" \"/tmp/$k\" || exit 1; done",
  "exec \"$@\""
].join("\n")

// ---------------------------------------------------------------------------------------------
// The network
// ---------------------------------------------------------------------------------------------

/** Networks not yet destroyed, for the last-resort cleanup when the process ends. */
const live = new Set<{ readonly destroySync: () => void }>()
let exitHooksInstalled = false
let counter = 0

/**
 * Signals that end a test process: vitest stops its fork workers with SIGTERM (SIGKILL 500 ms
 * later), which skips "exit" handlers, and Ctrl+C sends SIGINT to the whole process group.
 */
const ENDING_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const

const destroyAllSync = (): void => {
  for (const network of live) network.destroySync()
}

const installExitHooks = (): void => {
  if (exitHooksInstalled) return
  exitHooksInstalled = true
  // Only synchronous work runs here: SIGKILL and execFileSync, no waiting for exits.
  process.on("exit", destroyAllSync)
  for (const signal of ENDING_SIGNALS) {
    process.once(signal, () => {
      destroyAllSync()
      // Our listener is gone ("once"): unless someone else handles the signal, raising it again
      // ends the process as it would have without us.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    })
  }
}

/**
 * Namespaces and run directories of this prefix left by processes that died before cleaning up
 * (a SIGKILLed vitest worker never runs its "exit" handler).
 */
const removeStale = (prefix: string): void => {
  // The prefix is letters, digits and _ (checked by createNetwork): nothing to escape.
  const ours = new RegExp(`^${prefix}-(\\d+)-\\d+-\\d+(?:-|$)`)
  const isStale = (name: string): boolean => {
    const pid = ours.exec(name)?.[1]
    return pid !== undefined && Number(pid) !== process.pid && !pidAlive(Number(pid))
  }
  for (const ns of listNamespaces()) if (isStale(ns)) deleteNamespace(ns)
  for (const entry of readdirSync(tmpdir())) {
    if (isStale(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true })
  }
}

/**
 * Builds `hosts` namespaces `<id>-h1 …` on one bridge `br0` inside `<id>-sw`. Host i has
 * `eth0` = 10.k.0.(i+1)/24 and fd00:0:0:k::(i+1)/64 (k differs between concurrent runs only to
 * tell their logs apart: each run has its own switch, so their addresses never meet), plus a
 * multicast route, so segments on a multicast group work as well as broadcast ones.
 */
export const createNetwork = (options: NetworkOptions): Network => {
  const prefix = options.prefix ?? DEFAULT_PREFIX
  if (!/^[A-Za-z0-9_]+$/.test(prefix)) throw new Error(`prefix "${prefix}": letters, digits and _ only`)
  if (!Number.isInteger(options.hosts) || options.hosts < 1 || options.hosts > 250) {
    throw new Error(`hosts: ${options.hosts} is not from 1 to 250`)
  }
  const keep = tmpEntriesOf([MAIN, process.execPath]).join(" ")
  installExitHooks()
  removeStale(prefix)

  const id = `${prefix}-${process.pid}-${threadId}-${++counter}`
  const k = 16 + ((process.pid * 7 + threadId * 13 + counter) % 224)
  const runDir = join(tmpdir(), id)
  const logDir = join(runDir, "logs")
  const switchNs = `${id}-sw`
  const hosts: ReadonlyArray<Host> = Array.from({ length: options.hosts }, (_, index) => ({
    index,
    name: `n${index + 1}`,
    ns: `${id}-h${index + 1}`,
    address: `10.${k}.0.${index + 1}`,
    address6: `fd00:0:0:${k.toString(16)}::${index + 1}`,
    dir: join(runDir, `h${index + 1}`)
  }))
  const namespaces = [switchNs, ...hosts.map((h) => h.ns)]
  const processes = new Set<Tracked>()
  const bridges = new Set<string>()
  let destroyed = false
  let sequence = 0

  const destroySync = (): void => {
    for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL")
    for (const ns of namespaces) deleteNamespace(ns)
    if (process.env[KEEP_ENV] === undefined) rmSync(runDir, { recursive: true, force: true })
    live.delete(handle)
  }
  const handle = { destroySync }
  live.add(handle)

  /** The switch-side end of host i's cable. */
  const port = (i: number): string => `h${i + 1}`
  const hostAt = (i: number): Host => {
    const host = hosts[i]
    if (host === undefined) throw new Error(`no host ${i}: the hosts are 0 … ${hosts.length - 1}`)
    return host
  }
  const ensureBridge = (bridge: string): void => {
    if (bridges.has(bridge)) return
    // No multicast snooping: without an IGMP querier it could drop segment multicast.
    ip("-n", switchNs, "link", "add", bridge, "type", "bridge", "mcast_snooping", "0")
    ip("-n", switchNs, "link", "set", bridge, "up")
    bridges.add(bridge)
  }

  try {
    mkdirSync(logDir, { recursive: true })
    for (const ns of namespaces) {
      ip("netns", "add", ns)
      ip("-n", ns, "link", "set", "lo", "up")
    }
    ensureBridge("br0")
    for (const host of hosts) {
      mkdirSync(host.dir)
      // Created in the switch with its peer straight in the host: nothing touches the root ns.
      ip("-n", switchNs, "link", "add", port(host.index), "type", "veth", "peer", "name", "eth0", "netns", host.ns)
      ip("-n", switchNs, "link", "set", port(host.index), "master", "br0", "up")
      if (options.mtu !== undefined) {
        ip("-n", switchNs, "link", "set", port(host.index), "mtu", String(options.mtu))
        ip("-n", host.ns, "link", "set", "eth0", "mtu", String(options.mtu))
      }
      ip("-n", host.ns, "addr", "add", `${host.address}/24`, "brd", "+", "dev", "eth0")
      // nodad: usable at once, without the seconds of duplicate address detection.
      ip("-n", host.ns, "-6", "addr", "add", `${host.address6}/64`, "dev", "eth0", "nodad")
      ip("-n", host.ns, "link", "set", "eth0", "up")
      ip("-n", host.ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
    }
  } catch (e) {
    destroySync()
    throw e
  }

  const track = (t: Tracked): void => {
    processes.add(t)
    void t.exited.then(() => processes.delete(t))
  }
  const assertLive = (): void => {
    if (destroyed) throw new Error(`network ${id} is destroyed`)
  }

  const spawnIn = (i: number, argv: ReadonlyArray<string>, options?: { readonly label?: string }): HostProcess => {
    assertLive()
    const host = hostAt(i)
    const label = (options?.label ?? argv[0] ?? "process").replace(/[^A-Za-z0-9_.-]/g, "_").slice(-40)
    const logFile = join(logDir, `${host.name}-${++sequence}-${label}.log`)
    return startProcess(i, ["ip", "netns", "exec", host.ns, ...argv], logFile, track)
  }

  const exec = async (i: number, argv: ReadonlyArray<string>, options?: { readonly timeoutMs?: number }): Promise<ExecResult> => {
    assertLive()
    const host = hostAt(i)
    const child = spawn("ip", ["netns", "exec", host.ns, ...argv], { stdio: ["ignore", "pipe", "pipe"], cwd: "/" })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<ProcessExit>((resolve) => {
      child.once("close", (code, signal) => resolve({ code, signal }))
      child.once("error", (e) => {
        stderr += `spawn failed: ${e.message}\n`
        resolve({ code: null, signal: null })
      })
    })
    track({ child, exited })
    const timer = setTimeout(() => child.kill("SIGKILL"), options?.timeoutMs ?? 10_000)
    const exit = await exited
    clearTimeout(timer)
    return { ...exit, stdout, stderr }
  }

  const startDaemon = async (i: number, options: StartDaemonOptions): Promise<NetnsDaemon> => {
    assertLive()
    const host = hostAt(i)
    // Parsed here too, for the port and to fail with the parser's message before any process.
    const entry = parseConfig(options.configText, "spread.conf").daemons.find((d) => d.name === options.name)
    if (entry === undefined) throw new Error(`no daemon "${options.name}" in the configuration`)
    const port = options.port ?? entry.port
    // In the host directory, so the daemon reads it as /tmp/<file> after the bind mount.
    const confFile = `spread-${options.name}-${++sequence}.conf`
    const configPath = join(host.dir, confFile)
    writeFileSync(configPath, options.configText)
    const flags = [
      "-c", `/tmp/${confFile}`,
      "-n", options.name,
      ...(options.port === undefined ? [] : ["-p", String(options.port)]),
      ...(options.args ?? [])
    ]
    // Every daemon of one configuration listens on /tmp/<port>: a private mount namespace gives
    // each its own /tmp (the host directory), which the test reaches at <host dir>/<port> since
    // Unix sockets are not network-namespaced. Paths go in as arguments, never into the script.
    const proc = spawnIn(i, [
      "unshare", "--mount", "--propagation", "private",
      "sh", "-c", LAUNCH_SCRIPT, "sh", host.dir, keep,
      process.execPath, MAIN, ...flags
    ], { label: `spread-${options.name}` })
    const unixPath = join(host.dir, String(port))
    const deadline = Date.now() + (options.readyTimeoutMs ?? DAEMON_READY_TIMEOUT_MS)
    for (;;) {
      if (!proc.running()) {
        const exit = await proc.exited
        throw new Error(`daemon ${options.name} on host ${i} exited (${exit.code ?? exit.signal}) before accepting clients:\n${proc.output()}`)
      }
      if (await canConnectUnix(unixPath)) break
      if (Date.now() > deadline) {
        proc.kill("SIGKILL")
        throw new Error(`daemon ${options.name} on host ${i}: ${unixPath} not accepting after ${options.readyTimeoutMs ?? DAEMON_READY_TIMEOUT_MS} ms:\n${proc.output()}`)
      }
      await sleep(25)
    }
    return {
      ...proc,
      name: options.name,
      port,
      unixPath,
      configPath,
      stop: () => {
        proc.kill("SIGTERM")
        return proc.exited
      }
    }
  }

  const cutLink = (i: number, mode: CutMode = "detach"): void => {
    assertLive()
    hostAt(i)
    if (mode === "detach") ip("-n", switchNs, "link", "set", port(i), "nomaster")
    else ip("-n", switchNs, "link", "set", port(i), "down")
  }

  const restoreLink = (i: number): void => {
    assertLive()
    hostAt(i)
    ip("-n", switchNs, "link", "set", port(i), "master", "br0", "up")
  }

  const isolate = (groups: ReadonlyArray<ReadonlyArray<number>>): void => {
    assertLive()
    const seen = new Set<number>()
    for (const i of groups.flat()) {
      hostAt(i)
      if (seen.has(i)) throw new Error(`host ${i} is in two groups of ${JSON.stringify(groups)}`)
      seen.add(i)
    }
    groups.forEach((group, g) => {
      ensureBridge(`br${g}`)
      for (const i of group) ip("-n", switchNs, "link", "set", port(i), "master", `br${g}`, "up")
    })
    for (const host of hosts) if (!seen.has(host.index)) cutLink(host.index)
  }

  const heal = (): void => {
    for (const host of hosts) restoreLink(host.index)
  }

  const destroy = async (): Promise<void> => {
    if (destroyed) return
    destroyed = true
    const running = [...processes]
    for (const p of running) p.child.kill("SIGTERM")
    const allExited = Promise.all(running.map((p) => p.exited))
    const grace = sleep(STOP_GRACE_MS).then(() => "timeout" as const)
    if ((await Promise.race([allExited, grace])) === "timeout") {
      for (const p of running) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL")
      await allExited
    }
    destroySync()
  }

  return {
    id,
    hosts,
    subnet: `10.${k}.0.0/24`,
    broadcast: `10.${k}.0.255`,
    switchNs,
    runDir,
    exec,
    spawn: spawnIn,
    startDaemon,
    cutLink,
    restoreLink,
    isolate,
    heal,
    destroy
  }
}

/** Runs `fn` on a fresh network and destroys it afterwards, whatever happens. */
export const withNetwork = async <A>(options: NetworkOptions, fn: (network: Network) => Promise<A>): Promise<A> => {
  const network = createNetwork(options)
  try {
    return await fn(network)
  } finally {
    await network.destroy()
  }
}

/**
 * One network for all the tests of a `describe` (or file): built in `beforeAll`, destroyed in
 * `afterAll`. Returns an accessor, since the network exists only once `beforeAll` has run.
 */
export const useNetwork = (options: NetworkOptions): (() => Network) => {
  let network: Network | undefined
  beforeAll(() => {
    network = createNetwork(options)
  })
  afterAll(async () => {
    await network?.destroy()
  })
  return () => {
    if (network === undefined) throw new Error("useNetwork: the network exists only inside tests and hooks")
    return network
  }
}

/** The IPv6 segment {@link spreadConf} writes: a site-local multicast group (IPv6 has no broadcast). */
export const SEGMENT_GROUP6 = "[ff05::5:4803]"

export interface SpreadConfOptions {
  /** The segment's port (data; tokens on port + 1). Default 4803: every host has its own. */
  readonly port?: number
  /** Which hosts become daemons, in ring order; default all. */
  readonly hosts?: ReadonlyArray<number>
  /** Daemon names by host index; default `n1`, `n2`, …. */
  readonly names?: ReadonlyArray<string>
  /**
   * The segment address; default the subnet's broadcast address (IPv4) or {@link SEGMENT_GROUP6}
   * (IPv6). A multicast group works too; an IPv6 one in brackets.
   */
  readonly segmentAddress?: string
  /** `IPv6`: the daemons' IPv6 addresses and `ActiveIPVersion = IPv6`. Default IPv4. */
  readonly ipVersion?: "IPv4" | "IPv6"
  /** Appended verbatim: settings such as `TokenTimeout = 1000`. */
  readonly extra?: string
}

/**
 * A spread.conf with one segment holding the chosen hosts (see `examples/spread.conf`):
 *
 *     Spread_Segment 10.k.0.255:4803 {
 *         n1 10.k.0.1
 *         n2 10.k.0.2
 *     }
 */
export const spreadConf = (network: Network, options: SpreadConfOptions = {}): string => {
  const chosen = (options.hosts ?? network.hosts.map((h) => h.index)).map((i) => {
    const host = network.hosts[i]
    if (host === undefined) throw new Error(`spreadConf: no host ${i}`)
    return host
  })
  const v6 = options.ipVersion === "IPv6"
  const entries = chosen.map((h) => `    ${options.names?.[h.index] ?? h.name} ${v6 ? h.address6 : h.address}`)
  return [
    `# ${network.id}: generated by test/support/netns.ts`,
    ...(v6 ? ["ActiveIPVersion = IPv6"] : []),
    `Spread_Segment ${options.segmentAddress ?? (v6 ? SEGMENT_GROUP6 : network.broadcast)}:${options.port ?? 4803} {`,
    ...entries,
    "}",
    ...(options.extra === undefined ? [] : [options.extra]),
    ""
  ].join("\n")
}
