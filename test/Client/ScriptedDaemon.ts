/**
 * A scripted daemon for client tests: it serves one connection by playing the daemon's side of
 * a golden vector (test/fixtures/README.md) — it checks that the client writes exactly the
 * `c2d` bytes (outside `varying` ranges) and answers with the `d2c` bytes, split into odd-sized
 * writes to exercise reassembly.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface Varying {
  readonly offset: number
  readonly length: number
}

export interface Step {
  readonly dir: "c2d" | "d2c" | "ctl"
  readonly conn: string
  readonly hex?: string
  readonly event?: string
  readonly varying?: ReadonlyArray<Varying>
  readonly fields?: any
  readonly decoded?: any
  readonly phase?: string
}

export interface Fixture {
  readonly name: string
  readonly connections: Record<string, {
    readonly transport: "tcp" | "unix"
    readonly private_name: string | null
    readonly group_membership: boolean
    readonly private_group?: string
  }>
  readonly steps: ReadonlyArray<Step>
}

const fixturesDir = new URL("../fixtures/", import.meta.url)

export const loadFixture = (prefix: string): Fixture => {
  const names = ["01-handshake-alice", "02-handshake-alice-no-membership", "03-handshake-bad-version", "04-handshake-duplicate-name",
    "05-handshake-illegal-name", "07-handshake-empty-name", "08-handshake-bad-auth", "10-join-alone", "11-join-second-member",
    "12-multicast-agreed-hello", "13-service-types", "14-self-discard", "15-multigroup", "16-private-group", "17-empty-message",
    "18-large-message", "19-leave", "20-rejoin-disconnect", "21-self-leave", "22-unix-socket"]
  const name = names.find((n) => n.startsWith(prefix))
  if (name === undefined) throw new Error(`no fixture ${prefix}`)
  return JSON.parse(readFileSync(new URL(`${name}.json`, fixturesDir), "utf8")) as Fixture
}

/** The byte steps of one connection, in order (ctl steps and `silence` dropped). */
export const stepsOf = (fixture: Fixture, conn: string): ReadonlyArray<Step> =>
  fixture.steps.filter((s) => s.conn === conn && s.dir !== "ctl" && s.event !== "silence")

/** How the daemon's bytes are cut into writes. */
export type Chunking = "bytewise" | "odd" | "whole"

const ODD_SIZES = [1, 3, 7, 2, 13, 5, 31, 11, 97, 1, 211, 17, 1021, 4099]

const cut = (bytes: Buffer, chunking: Chunking): Array<Buffer> => {
  if (chunking === "whole") return [bytes]
  const out: Array<Buffer> = []
  let pos = 0
  let i = 0
  while (pos < bytes.length) {
    const size = chunking === "bytewise" ? 1 : ODD_SIZES[i++ % ODD_SIZES.length]!
    out.push(bytes.subarray(pos, pos + size))
    pos += size
  }
  return out
}

export interface ScriptOptions {
  readonly transport: "tcp" | "unix"
  readonly chunking: Chunking
  /** Compare `c2d` bytes (false: only their length, for steps our client cannot reproduce). */
  readonly checkClientBytes?: boolean
  /** Hold back the daemon's bytes of the accept until this many ms passed (timeout tests). */
  readonly neverAnswer?: boolean
  /** After the script, keep the connection open until the client closes it. */
  readonly holdOpen?: boolean
}

export interface ScriptedDaemon {
  /** The `spreadName` a client should use. */
  readonly spreadName: string
  /** Resolves when the script has run (or the client went away); lists every mismatch. */
  readonly finished: Promise<ReadonlyArray<string>>
  /** Everything the client wrote. */
  readonly received: () => Buffer
  readonly close: () => Promise<void>
}

const sameOutsideVarying = (actual: Buffer, expected: Buffer, varying: ReadonlyArray<Varying>): boolean => {
  if (actual.length !== expected.length) return false
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] === expected[i]) continue
    if (!varying.some((v) => i >= v.offset && i < v.offset + v.length)) return false
  }
  return true
}

const pause = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Starts a server that plays `steps` to the first client that connects. */
export const startScriptedDaemon = async (steps: ReadonlyArray<Step>, options: ScriptOptions): Promise<ScriptedDaemon> => {
  const problems: Array<string> = []
  const chunks: Array<Buffer> = []
  let pending = Buffer.alloc(0)
  let wanted: { n: number; resolve: (b: Buffer | undefined) => void } | undefined
  let clientGone = false
  let finish!: (p: ReadonlyArray<string>) => void
  const finished = new Promise<ReadonlyArray<string>>((resolve) => {
    finish = resolve
  })

  const tryRead = () => {
    if (wanted === undefined) return
    if (pending.length >= wanted.n) {
      const out = pending.subarray(0, wanted.n)
      pending = pending.subarray(wanted.n)
      const w = wanted
      wanted = undefined
      w.resolve(out)
    } else if (clientGone) {
      const w = wanted
      wanted = undefined
      w.resolve(undefined)
    }
  }
  const read = (n: number) =>
    new Promise<Buffer | undefined>((resolve) => {
      wanted = { n, resolve }
      tryRead()
    })

  const sockets = new Set<net.Socket>()
  const server = net.createServer(async (socket) => {
    sockets.add(socket)
    server.close()
    socket.setNoDelay(true)
    socket.on("data", (b) => {
      chunks.push(b)
      pending = Buffer.concat([pending, b])
      tryRead()
    })
    socket.on("error", () => {})
    socket.on("close", () => {
      clientGone = true
      tryRead()
    })
    try {
      for (const [index, step] of steps.entries()) {
        if (step.dir === "c2d") {
          const expected = Buffer.from(step.hex!, "hex")
          const exact = options.checkClientBytes ?? true
          // Unchecked steps take what the client's write brought (one write per phase, §3.3).
          const actual = exact ? await read(expected.length) : await read(1).then((first) => {
            if (first === undefined) return undefined
            const rest = pending.subarray(0, expected.length - 1)
            pending = pending.subarray(rest.length)
            return Buffer.concat([first, rest])
          })
          if (actual === undefined) {
            problems.push(`step ${index}: the client closed before writing ${step.hex}`)
            break
          }
          if (exact && !sameOutsideVarying(actual, expected, step.varying ?? [])) {
            problems.push(`step ${index}: client wrote ${actual.toString("hex")}, expected ${step.hex}`)
          }
        } else if (step.dir === "d2c") {
          if (step.event === "eof") {
            socket.end()
            continue
          }
          if (options.neverAnswer) continue
          for (const piece of cut(Buffer.from(step.hex!, "hex"), options.chunking)) {
            if (socket.destroyed) break
            await new Promise<void>((resolve) => socket.write(piece, () => resolve()))
            await pause()
          }
        }
      }
    } catch (e) {
      problems.push(`script failed: ${String(e)}`)
    }
    if (!options.neverAnswer && !options.holdOpen) socket.end()
    // Whatever the client writes after the script is a mismatch too (read until it closes).
    await new Promise<void>((resolve) => (clientGone ? resolve() : socket.once("close", () => resolve())))
    if (pending.length > 0) problems.push(`client wrote ${pending.length} unexpected bytes: ${pending.toString("hex").slice(0, 200)}`)
    finish(problems)
  })

  let spreadName: string
  let dir: string | undefined
  if (options.transport === "tcp") {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    spreadName = `${(server.address() as net.AddressInfo).port}@127.0.0.1`
  } else {
    dir = mkdtempSync(join(tmpdir(), "spread-client-"))
    spreadName = join(dir, "daemon.sock")
    await new Promise<void>((resolve) => server.listen(spreadName, resolve))
  }
  return {
    spreadName,
    finished,
    received: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    }
  }
}
