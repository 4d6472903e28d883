/**
 * Three daemons on three hosts (network namespaces, as the tests build them): throughput and
 * latency of AGREED and SAFE with one sender (on the first host; the receiver on the third, as
 * the C figures were taken) and with three (one per host), then the time from kill -9 of a
 * daemon to the new membership at a surviving client, with default and with fast timeouts.
 *
 * Run by `npm run bench` through vitest (`vitest.bench.config.ts`), which gives it the same
 * TypeScript resolution as the tests; it prints tables and asserts nothing: speed targets live
 * here, never in tests.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { it } from "vitest"
import { fastProfileSettings } from "../src/Config/index.ts"
import { createNetwork, type NetnsDaemon, netnsAvailable, type Network, spreadConf } from "../test/support/netns.ts"
import { connectTo, eventually, hasView, type RecordingClient, ringOf } from "../test/Netns/support.ts"

const SPFLOODER = fileURLToPath(new URL("../dist/Tools/spflooder.js", import.meta.url))
const NAMES = ["n1", "n2", "n3"]
const MESSAGES: Record<number, number> = { 100: 200_000, 1000: 100_000, 10000: 20_000 }

interface Report {
  readonly messagesPerSecond: number
  readonly megabytesPerSecond: number
  readonly latencyP50?: number
  readonly latencyP99?: number
  readonly lost: number
  readonly duplicated: number
  readonly outOfOrder: number
}

const flooder = (args: ReadonlyArray<string>): Promise<Report> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SPFLOODER, "--json", ...args], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.once("exit", (code) =>
      // 3: the report counts lost, duplicated or reordered messages; the table shows them.
      code === 0 || code === 3
        ? resolve(JSON.parse(out.trim().split("\n").at(-1)!) as Report)
        : reject(new Error(`spflooder ${args.join(" ")} exited ${code}`)))
  })

const startRing = async (net: Network, conf: string): Promise<Array<NetnsDaemon>> => {
  const daemons = await Promise.all(NAMES.map((name, i) => net.startDaemon(i, { configText: conf, name })))
  await Promise.all(daemons.map((d) => d.waitForOutput(ringOf(NAMES), 30_000)))
  return daemons
}

const throughput = async (
  title: string,
  daemons: ReadonlyArray<NetnsDaemon>,
  services: ReadonlyArray<string>,
  sendersList: ReadonlyArray<number>
): Promise<void> => {
  console.log(`\n${title}\n`)
  let run = 0
  console.log("| service | payload | senders | msgs/s (receiver) | MB/s | p50 ms | p99 ms | lost | duplicated | out of order |")
  console.log("|---|---|---|---|---|---|---|---|---|---|")
  for (const service of services) {
    for (const bytes of [100, 1000, 10000]) {
      for (const senders of sendersList) {
        const m = Math.floor(MESSAGES[bytes]! / senders)
        const group = `b${run++}`
        const common = ["-b", String(bytes), "--service", service, "--groups", group]
        // Settled at once, so a receiver that fails while the senders run is not an unhandled rejection.
        const receiver = flooder(["-u", `rx${run}`, "-s", daemons[2]!.unixPath, "--receive-only", "-m", String(m), "--senders", String(senders), "--idle", "10", ...common])
          .then((report) => report, (e: unknown) => (e instanceof Error ? e : new Error(String(e))))
        await new Promise((r) => setTimeout(r, 500))
        const from = senders === 1 ? [daemons[0]!] : daemons
        await Promise.all(from.map((d, i) => flooder(["-u", `tx${run}-${i}`, "-s", d.unixPath, "--write-only", "-m", String(m), ...common])))
        const r = await receiver
        if (r instanceof Error) {
          // E.g. its daemon cut it off as a slow reader (MaxSessionMessages): the row shows it.
          console.log(`| ${service.toUpperCase()} | ${bytes} B | ${senders} | receiver failed: ${r.message} | | | | | | |`)
          continue
        }
        console.log(
          `| ${service.toUpperCase()} | ${bytes} B | ${senders} | ${Math.round(r.messagesPerSecond).toLocaleString("en")} | ` +
            `${r.megabytesPerSecond.toFixed(1)} | ${r.latencyP50?.toFixed(2) ?? "-"} | ${r.latencyP99?.toFixed(2) ?? "-"} | ${r.lost} | ${r.duplicated} | ${r.outOfOrder} |`
        )
      }
    }
  }
}

let round = 0

/** kill -9 of the middle daemon; ms until a client of the first sees the view without its member. */
const crashToMembership = async (net: Network, daemons: Array<NetnsDaemon>, conf: string): Promise<number> => {
  const r = round++
  const group = `crash${r}`
  const clients: Array<RecordingClient> = []
  for (const [i, d] of daemons.entries()) clients.push(await connectTo(d, `k${r}-${i}`))
  for (const c of clients) await c.connection.join(group)
  await eventually("the three joins", () => clients.every((c) => hasView(c, group, clients)))
  const killedAt = performance.now()
  daemons[1]!.kill("SIGKILL")
  const [first, , third] = clients as [RecordingClient, RecordingClient, RecordingClient]
  await eventually("the new membership", () => hasView(first, group, [first, third]))
  const changedAt = first.received.at(-1)!.at
  for (const c of [first, third]) await c.connection.disconnect()
  const mark = daemons[0]!.output().length
  daemons[1] = await net.startDaemon(1, { configText: conf, name: "n2" })
  // Back in one ring of three before the next measurement.
  await eventually("the ring of three again", () => ringOf(NAMES).test(daemons[0]!.output().slice(mark)), 30_000)
  return changedAt - killedAt
}

it.skipIf(!netnsAvailable().ok)("three daemons on three hosts", async () => {
  const net = createNetwork({ hosts: 3, prefix: "spreadbench" })
  try {
    const lanConf = spreadConf(net)
    const flooded = await startRing(net, lanConf)
    await throughput("Default configuration (MaxPacketSize 1472, MTU 1500):", flooded, ["agreed", "safe"], [1, 3])
    // A fresh ring for the crash timings: the floods leave backlogs that receivers stopped counting.
    for (const d of flooded) await d.stop()
    const daemons = await startRing(net, lanConf)
    const lan: Array<number> = []
    for (let i = 0; i < 3; i++) lan.push(await crashToMembership(net, daemons, lanConf))
    for (const d of daemons) await d.stop()
    const fastConf = spreadConf(net, { extra: fastProfileSettings() })
    const fast = await startRing(net, fastConf)
    const quick: Array<number> = []
    for (let i = 0; i < 3; i++) quick.push(await crashToMembership(net, fast, fastConf))
    console.log("\n| timeouts | kill -9 → new membership at a surviving client, ms (3 runs) |")
    console.log("|---|---|")
    console.log(`| default (LAN) | ${lan.map((t) => t.toFixed(0)).join(", ")} |`)
    console.log(`| fast profile | ${quick.map((t) => t.toFixed(0)).join(", ")} |`)
  } finally {
    await net.destroy()
  }
  // Fewer, larger datagrams on the same MTU: the kernel fragments them, one send and one
  // receive callback per datagram instead of one per 1,472 bytes (README, "Throughput"). A
  // packet then carries up to 150 small messages, so, as the README advises, a session may hold
  // more of them: three senders hand the receiver thousands per rotation.
  const fragmented = createNetwork({ hosts: 3, prefix: "spreadbench" })
  try {
    const conf = spreadConf(fragmented, { extra: "MaxPacketSize = 16000\nMaxSessionMessages = 10000" })
    const daemons = await startRing(fragmented, conf)
    await throughput("IP fragmentation (MTU 1500, MaxPacketSize = 16000, MaxSessionMessages = 10000):", daemons, ["agreed", "safe"], [1, 3])
  } finally {
    await fragmented.destroy()
  }
  // Fewer, larger datagrams: every datagram costs the kernel tens of microseconds here.
  const jumbo = createNetwork({ hosts: 3, prefix: "spreadbench", mtu: 9000 })
  try {
    const daemons = await startRing(jumbo, spreadConf(jumbo, { extra: "MaxPacketSize = 8972" }))
    await throughput("Jumbo frames (MTU 9000, MaxPacketSize = 8972):", daemons, ["agreed"], [1])
  } finally {
    await jumbo.destroy()
  }
}, 1_800_000)
