/**
 * The daemon's own capacity, measured with the thinnest possible client: raw protocol codecs
 * over one socket, no Effect, one process sending and receiving its own AGREED messages with at
 * most 200 in flight (as Spread's flooder). What a C client sees is closer to this than to our
 * Effect client, whose own costs the main table includes.
 *
 * `node bench/minimalClient.ts <spreadName> <bytes> <messages>` prints one JSON line.
 */
import { createConnection } from "node:net"
import {
  AGREED_MESS,
  ByteQueue,
  daemonMessageLength,
  encodeAuthChoice,
  encodeClientMessage,
  encodeConnect,
  encodeJoin,
  parseSpreadName,
  readHeader,
  SPREAD_VERSION
} from "../dist/Protocol/index.js"

const [spreadName = "4803", bytesArg = "100", messagesArg = "100000"] = process.argv.slice(2)
const bytes = Number(bytesArg)
const total = Number(messagesArg)
const WINDOW = 200
const address = parseSpreadName(spreadName)
if (address === undefined) throw new Error(`bad spread name ${spreadName}`)
const socket = address._tag === "Unix" ? createConnection(address.path) : createConnection({ host: address.host, port: address.port })
const input = new ByteQueue()
let phase: "list" | "accept" | "joining" | "flooding" = "list"
let message: Buffer = Buffer.alloc(0)
let sent = 0
let received = 0
let started = 0

const pump = (): void => {
  const batch: Array<Buffer> = []
  while (sent < total && sent - received < WINDOW) {
    batch.push(message)
    sent++
  }
  if (batch.length > 0) socket.write(Buffer.concat(batch))
}

socket.on("connect", () => socket.write(encodeConnect({ version: SPREAD_VERSION, groupMembership: true, priority: 0, name: "minimal" })))
socket.on("data", (chunk: Buffer) => {
  input.push(chunk)
  if (phase === "list" && input.length >= 6) {
    input.take(6)
    socket.write(encodeAuthChoice(["NULL"]))
    phase = "accept"
  }
  if (phase === "accept" && input.length >= 5 && input.length >= 5 + input.peek(5)[4]!) {
    const length = input.take(5)[4]!
    const privateGroup = input.take(length).toString("latin1")
    message = encodeClientMessage({ type: AGREED_MESS, sender: privateGroup, groups: ["flood"], messType: 0, data: Buffer.alloc(bytes, 0x61) })
    socket.write(encodeJoin(privateGroup, "flood"))
    phase = "joining"
  }
  while ((phase === "joining" || phase === "flooding") && input.length >= 48) {
    const length = daemonMessageLength(readHeader(input.peek(48)))
    if (input.length < length) break
    input.take(length)
    if (phase === "joining") {
      phase = "flooding"
      started = performance.now()
      continue
    }
    if (++received === total) {
      const seconds = (performance.now() - started) / 1000
      console.log(JSON.stringify({ bytes, messages: total, messagesPerSecond: total / seconds, megabytesPerSecond: (total * bytes) / seconds / 1e6 }))
      socket.destroy()
      return
    }
  }
  if (phase === "flooding") pump()
})
