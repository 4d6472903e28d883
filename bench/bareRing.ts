/**
 * One host of a bare token ring in Node, with no Spread code at all: the ceiling of any Node
 * daemon that moves the ring's datagrams (`bench/bare-ring.netns.ts`; `bench/bareRing.c` is the
 * same program in C). Host 0 broadcasts `window` datagrams of `size` bytes at each visit of the
 * token, every host forwards the token to the next at once; receivers only count. Prints one
 * JSON line when `seconds` are over.
 *
 * Usage: node bench/bareRing.ts <index> <address,address,…> <broadcast> <port> <size> <window> <seconds>
 */
import { createSocket, type Socket } from "node:dgram"

const [index, addressList, broadcast, portText, sizeText, windowText, secondsText] = process.argv.slice(2)
if (secondsText === undefined || broadcast === undefined || addressList === undefined) {
  console.error("usage: node bench/bareRing.ts <index> <addresses> <broadcast> <port> <size> <window> <seconds>")
  process.exit(2)
}
const me = Number(index)
const addresses = addressList.split(",")
const port = Number(portText)
const window = Number(windowText)
const myAddress = addresses[me]!
const successor = addresses[(me + 1) % addresses.length]!
/** The first token leaves host 0 once every host has surely bound its sockets. */
const START_DELAY_MS = 1_500

const bound = (socket: Socket, address: string, at: number): Promise<Socket> =>
  new Promise((resolve) => socket.bind(at, address, () => resolve(socket)))

const data = await bound(createSocket({ type: "udp4", reuseAddr: true }), "0.0.0.0", port)
const token = await bound(createSocket("udp4"), myAddress, port + 1)
const sender = await bound(createSocket("udp4"), myAddress, 0)
sender.setBroadcast(true)
data.setRecvBufferSize(4 * 1024 * 1024)
const senderPort = sender.address().port
const payload = Buffer.alloc(Number(sizeText))

let received = 0
let own = 0
let rotations = 0
let first = 0
let last = 0
data.on("message", (_bytes, from) => {
  // A broadcast comes back to its sender's host, as it does to a daemon's.
  if (from.port === senderPort && from.address === myAddress) return void own++
  if (received === 0) first = performance.now()
  received++
  last = performance.now()
})
token.on("message", (bytes) => {
  rotations++
  if (me === 0) for (let i = 0; i < window; i++) sender.send(payload, port, broadcast)
  sender.send(bytes, port + 1, successor)
})

const cpuAtStart = process.cpuUsage()
if (me === 0) setTimeout(() => sender.send(Buffer.alloc(16), port + 1, successor), START_DELAY_MS)
setTimeout(() => {
  const cpu = process.cpuUsage(cpuAtStart)
  const perSecond = last > first ? Math.round(received / ((last - first) / 1000)) : 0
  console.log(JSON.stringify({ me, received, perSecond, rotations, own, cpuSeconds: (cpu.user + cpu.system) / 1e6 }))
  process.exit(0)
}, Number(secondsText) * 1000)
