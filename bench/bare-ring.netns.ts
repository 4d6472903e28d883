/**
 * The machine's ceiling for a token ring of three hosts (network namespaces on one bridge, as
 * `ring.netns.ts` builds them), with no Spread code: the first host broadcasts `PersonalWindow`
 * (20) datagrams of `MaxPacketSize` (1472) bytes at each visit of the token, the others only
 * count them and pass the token on (`bareRing.ts` in Node, `bareRing.c` in C, built here when a
 * C compiler is present). Every datagram a daemon sends at the default packet size costs at
 * least what it costs here, so a Node daemon cannot carry more datagrams than the Node row.
 *
 * Run by `npm run bench`; it prints a table and asserts nothing.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { it } from "vitest"
import { createNetwork, netnsAvailable } from "../test/support/netns.ts"

const NODE_RING = fileURLToPath(new URL("./bareRing.ts", import.meta.url))
const C_RING = fileURLToPath(new URL("./bareRing.c", import.meta.url))
const PORT = "24803"
const DATAGRAM = "1472"
const WINDOW = "20"
const SECONDS = "8"
const RUNS = 3

interface HostReport {
  readonly received: number
  readonly perSecond: number
  readonly cpuSeconds: number
}

/** The C ring's executable, or why there is none. */
const buildC = (dir: string): string | Error => {
  const binary = join(dir, "bareRing")
  try {
    execFileSync("cc", ["-O2", "-o", binary, C_RING], { stdio: "pipe" })
    return binary
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e))
  }
}

it.skipIf(!netnsAvailable().ok)("a bare token ring of three hosts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spread-bare-ring-"))
  const net = createNetwork({ hosts: 3, prefix: "spreadbare" })
  try {
    const c = buildC(dir)
    const implementations: Array<[string, ReadonlyArray<string>]> = [["Node", [process.execPath, NODE_RING]]]
    if (typeof c === "string") implementations.push(["C", [c]])
    else console.log(`\nno C ring: cc failed (${c.message.split("\n")[0]})`)
    const addresses = net.hosts.map((h) => h.address).join(",")
    console.log(`\nBare token ring: ${WINDOW} broadcasts of ${DATAGRAM} bytes per visit of host 1, 3 hosts\n`)
    console.log("| ring | run | datagrams/s at each receiver | sender CPU µs per datagram | receiver CPU µs per datagram |")
    console.log("|---|---|---|---|---|")
    for (let run = 1; run <= RUNS; run++) {
      for (const [name, command] of implementations) {
        const hosts = net.hosts.map((_, i) =>
          net.spawn(i, [...command, String(i), addresses, net.broadcast, PORT, DATAGRAM, WINDOW, SECONDS], { label: `bare-${name}-${i}` })
        )
        await Promise.all(hosts.map((h) => h.exited))
        const [sender, ...receivers] = hosts.map((h) => JSON.parse(h.output().trim().split("\n").at(-1)!) as HostReport)
        const microsPer = (cpuSeconds: number, datagrams: number): string => (datagrams === 0 ? "-" : (cpuSeconds * 1e6 / datagrams).toFixed(1))
        console.log(
          `| ${name} | ${run} | ${receivers.map((r) => r.perSecond.toLocaleString("en")).join(" / ")} | ` +
            `${microsPer(sender!.cpuSeconds, receivers[0]!.received)} | ${receivers.map((r) => microsPer(r.cpuSeconds, r.received)).join(" / ")} |`
        )
      }
    }
  } finally {
    await net.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}, 600_000)
