/**
 * `npm run bench`: floods through one daemon with our client (issue: AGREED, 100 B / 1 KB /
 * 10 KB, 100,000 messages, Unix socket and TCP; one process that sends and receives its own
 * messages with at most 200 in flight, and a separate sender and receiver). Prints a table with
 * messages/s, MB/s, one-way latency p50/p99 and the daemon's peak RSS (VmHWM).
 *
 * Usage: node bench/run.ts [messages]   (environment: BENCH_SIZES=100,1000)
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createConnection, createServer } from "node:net"
import { fileURLToPath } from "node:url"
import type { FloodOptions, FloodReport } from "../dist/Tools/Flood.js"

const MAIN = fileURLToPath(new URL("../dist/Daemon/main.js", import.meta.url))
const WORKER = fileURLToPath(new URL("./floodWorker.ts", import.meta.url))
const MINIMAL = fileURLToPath(new URL("./minimalClient.ts", import.meta.url))
/** As the daemon's bin runs (src/Daemon/main.ts); the flooding clients get the same heap. */
const V8_HEAP = "--initial-old-space-size=64"
const MESSAGES = Number(process.argv[2] ?? 100_000)
const SIZES = (process.env.BENCH_SIZES ?? "100,1000,10000").split(",").map(Number)

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const a = server.address()
      server.close(() => (typeof a === "object" && a !== null ? resolve(a.port) : reject(new Error("no port"))))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const startDaemon = async (): Promise<{ readonly port: number; readonly child: ChildProcess }> => {
  const port = await freePort()
  const child = spawn(process.execPath, [V8_HEAP, MAIN, "-p", String(port), "-n", "bench", "--log-level", "Warn"], { stdio: "inherit" })
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: "127.0.0.1" })
      s.once("connect", () => (s.destroy(), resolve(true)))
      s.once("error", () => resolve(false))
    })
    if (up) return { port, child }
    await sleep(50)
  }
}

/** Peak resident set of a process (Linux `VmHWM`), in MB. */
const peakRss = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmHWM:")) ?? "VmHWM: 0 kB"
  return Number(line.split(/\s+/)[1]) / 1024
}

const worker = (options: FloodOptions): Promise<FloodReport> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [V8_HEAP, WORKER, JSON.stringify(options)], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.once("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as FloodReport) : reject(new Error(`flood worker exited ${code}`))))
  })

interface Row {
  readonly payload: number
  readonly transport: string
  readonly mode: string
  readonly report: FloodReport
  readonly rssMb: number
}

const runCase = async (bytes: number, transport: "unix" | "tcp", mode: "one process" | "sender + receiver"): Promise<Row> => {
  const daemon = await startDaemon()
  const spreadName = transport === "unix" ? String(daemon.port) : `${daemon.port}@127.0.0.1`
  const base = { spreadName, group: "flood", messages: MESSAGES, bytes, service: "agreed" as const, window: 200, senders: 1 }
  let report: FloodReport
  if (mode === "one process") {
    report = await worker({ ...base, privateName: "both", mode: "both" })
  } else {
    const receiving = worker({ ...base, privateName: "recv", mode: "receive" })
    await sleep(1500) // the receiver has joined before the first message
    const [received] = await Promise.all([receiving, worker({ ...base, privateName: "send", mode: "send" })])
    report = received
  }
  const rssMb = peakRss(daemon.child.pid!)
  daemon.child.kill("SIGTERM")
  await new Promise((r) => daemon.child.once("exit", r))
  return { payload: bytes, transport, mode, report, rssMb }
}

const fmt = (n: number | undefined, digits = 0): string => (n === undefined ? "-" : n.toFixed(digits))

const rows: Array<Row> = []
console.log(`| payload | transport | mode | msgs/s | MB/s | p50 ms | p99 ms | lost | daemon peak RSS MB |`)
console.log(`|---|---|---|---|---|---|---|---|---|`)
for (const bytes of SIZES) {
  for (const transport of ["unix", "tcp"] as const) {
    for (const mode of ["one process", "sender + receiver"] as const) {
      const row = await runCase(bytes, transport, mode)
      rows.push(row)
      const r = row.report
      console.log(
        `| ${bytes} B | ${transport} | ${mode} | ${fmt(r.messagesPerSecond)} | ${fmt(r.megabytesPerSecond, 1)} | ` +
          `${fmt(r.latencyP50, 2)} | ${fmt(r.latencyP99, 2)} | ${r.lost} | ${fmt(row.rssMb, 0)} |`
      )
    }
  }
}

// The daemon's own capacity: the same one-process flood with a minimal client (bench/minimalClient.ts).
console.log(`\n| payload | transport | minimal client, one process: msgs/s | MB/s |`)
console.log(`|---|---|---|---|`)
for (const bytes of SIZES) {
  for (const transport of ["unix", "tcp"] as const) {
    const daemon = await startDaemon()
    const spreadName = transport === "unix" ? String(daemon.port) : `${daemon.port}@127.0.0.1`
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [V8_HEAP, MINIMAL, spreadName, String(bytes), String(MESSAGES)], { stdio: ["ignore", "pipe", "inherit"] })
      let text = ""
      child.stdout.on("data", (d: Buffer) => (text += d.toString()))
      child.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`minimal client exited ${code}`))))
    })
    const r = JSON.parse(out) as { readonly messagesPerSecond: number; readonly megabytesPerSecond: number }
    console.log(`| ${bytes} B | ${transport} | ${fmt(r.messagesPerSecond)} | ${fmt(r.megabytesPerSecond, 1)} |`)
    daemon.child.kill("SIGTERM")
    await new Promise((r) => daemon.child.once("exit", r))
  }
}
