/**
 * The `spread_name` of `SP_connect` (client-protocol §2.2): `"<port>"` is the Unix socket
 * `/tmp/<port>`, `"<port>@<host>"` is TCP. We also accept an absolute socket path, which C
 * clients cannot name but Node users expect. Parsing is strict (port 1..65535).
 */
import { DEFAULT_SPREAD_PORT, SP_UNIX_SOCKET } from "./Constants.js"

export type DaemonAddress =
  | { readonly _tag: "Unix"; readonly path: string }
  | { readonly _tag: "Tcp"; readonly host: string; readonly port: number }

/** `MAXHOSTNAMELEN + 6` on Linux (§2.2). */
const MAX_SPREAD_NAME = 70

const parsePort = (s: string): number | undefined => {
  if (!/^[0-9]{1,5}$/.test(s)) return undefined
  const port = Number(s)
  return port >= 1 && port <= 65535 ? port : undefined
}

export const unixSocketPath = (port: number): string => `${SP_UNIX_SOCKET}/${port}`

/** Returns the address, or undefined where libspread would answer `ILLEGAL_SPREAD`. */
export const parseSpreadName = (spreadName: string | undefined): DaemonAddress | undefined => {
  if (spreadName === undefined || spreadName === "") return { _tag: "Unix", path: unixSocketPath(DEFAULT_SPREAD_PORT) }
  if (spreadName.length > MAX_SPREAD_NAME) return undefined
  if (spreadName.startsWith("/")) return { _tag: "Unix", path: spreadName }
  const at = spreadName.indexOf("@")
  if (at < 0) {
    const port = parsePort(spreadName)
    return port === undefined ? undefined : { _tag: "Unix", path: unixSocketPath(port) }
  }
  const port = parsePort(spreadName.slice(0, at))
  const host = spreadName.slice(at + 1)
  return port === undefined || host.length === 0 ? undefined : { _tag: "Tcp", host, port }
}

/** The address for messages: the socket path, `host:port`, or `[v6 address]:port`. */
export const describeDaemonAddress = (address: DaemonAddress): string =>
  address._tag === "Unix" ? address.path : address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
