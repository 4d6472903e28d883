/**
 * Starts the built daemon (`dist/Daemon/main.js`) as a child process for integration tests, on
 * a free port, and stops it. Tests run `npm run build` first (`npm test` does).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { createConnection, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"

export const MAIN = fileURLToPath(new URL("../../dist/Daemon/main.js", import.meta.url))

export interface RunningDaemon {
  readonly port: number
  readonly unixPath: string
  readonly process: ChildProcess
  /** Everything the daemon printed so far. */
  readonly output: () => string
  readonly stop: () => Promise<number | null>
  /** The exit code, once the process has exited by itself. */
  readonly exited: Promise<number | null>
}

/** A TCP port that was free a moment ago (and whose port + 1 too, for the ring's token port). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

/** Whether a TCP connection to `host:port` is accepted now. */
export const canConnect = (port: number, host = "127.0.0.1"): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ port, host })
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Writes a configuration file into a fresh temporary directory and returns its path. */
export const writeConfig = (text: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), "spread-conf-")), "spread.conf")
  writeFileSync(path, text)
  return path
}

/**
 * Spawns `node dist/Daemon/main.js -p PORT -n NAME [-c FILE] [...args]` and waits until it
 * accepts clients.
 */
export const startDaemon = async (options: {
  readonly name: string
  readonly config?: string
  readonly args?: ReadonlyArray<string>
  /** Where it accepts clients once ready; default 127.0.0.1. */
  readonly clientHost?: string
}): Promise<RunningDaemon> => {
  const port = await freePort()
  const config = options.config === undefined ? [] : ["-c", writeConfig(options.config)]
  const child = spawn(process.execPath, [MAIN, "-p", String(port), "-n", options.name, ...config, ...(options.args ?? [])], {
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout.on("data", (d: Buffer) => (output += d.toString()))
  child.stderr.on("data", (d: Buffer) => (output += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}:\n${output}`)
    if (await canConnect(port, options.clientHost)) break
    await sleep(25)
  }
  return {
    port,
    unixPath: `/tmp/${port}`,
    process: child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM")
      return exited
    }
  }
}

/**
 * One daemon (`node1`, zero-config) for all the tests of a file: started before them, stopped
 * after; `ready` receives it once it accepts clients.
 */
export const withDaemon = (ready: (daemon: RunningDaemon) => void): void => {
  let daemon: RunningDaemon | undefined
  beforeAll(async () => {
    daemon = await startDaemon({ name: "node1" })
    ready(daemon)
  })
  afterAll(async () => {
    await daemon?.stop()
  })
}
