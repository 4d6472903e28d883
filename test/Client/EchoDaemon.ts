/**
 * A minimal stand-in daemon for throughput tests: it accepts any client with NULL auth and
 * echoes every byte after the handshake back. A little-endian client's data message is, byte
 * for byte, what a daemon delivers for it (client-protocol §6.1), so the client receives each
 * of its multicasts once — like a self-delivery through a real daemon.
 */
import * as net from "node:net"

export interface EchoDaemon {
  readonly spreadName: string
  readonly close: () => Promise<void>
}

export const startEchoDaemon = async (): Promise<EchoDaemon> => {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    let phase: "connect" | "choice" | "echo" = "connect"
    let buffered = Buffer.alloc(0)
    let name = ""
    socket.on("error", () => {})
    socket.on("close", () => sockets.delete(socket))
    socket.on("data", (chunk) => {
      if (phase === "echo") {
        socket.write(chunk)
        return
      }
      buffered = Buffer.concat([buffered, chunk])
      if (phase === "connect" && buffered.length >= 5 && buffered.length >= 5 + buffered[4]!) {
        name = buffered.toString("latin1", 5, 5 + buffered[4]!) || "anon"
        buffered = buffered.subarray(5 + buffered[4]!)
        phase = "choice"
        socket.write(Buffer.from("054e554c4c20", "hex"))
      }
      if (phase === "choice" && buffered.length >= 90) {
        const group = Buffer.from(`#${name}#echo`, "latin1")
        socket.write(Buffer.concat([Buffer.from([1, 5, 0, 1, group.length]), group]))
        phase = "echo"
        const rest = buffered.subarray(90)
        if (rest.length > 0) socket.write(rest)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    spreadName: `${(server.address() as net.AddressInfo).port}@127.0.0.1`,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
