/**
 * IP addresses as `spread.conf` writes them: `10.0.0.1`, `10.0.0.255:4803`, `fe80::1%eth0`,
 * `[ff02::1]:4803`. Pure text functions; addresses leave here in canonical form (IPv6 lower case
 * and compressed as RFC 5952, a `%scope` kept after it) so that two spellings of one address
 * compare, print and hash alike.
 */
import { isIPv4, isIPv6 } from "node:net"
import type { IpVersion } from "./Model.js"

export interface IpAddress {
  /** Canonical text, with `%scope` if one was given. */
  readonly address: string
  readonly version: IpVersion
}

export interface IpAddressWithPort extends IpAddress {
  /** `null` when no port was written. */
  readonly port: number | null
}

const canonicalIpv6 = (text: string): string => new URL(`http://[${text}]/`).hostname.slice(1, -1)

/** An address without a port, or `null` if `text` is not one. */
export const parseIpAddress = (text: string): IpAddress | null => {
  if (isIPv4(text)) return { address: text, version: "IPv4" }
  const percent = text.indexOf("%")
  const bare = percent < 0 ? text : text.slice(0, percent)
  const scope = percent < 0 ? "" : text.slice(percent)
  if (scope === "%" || !isIPv6(bare)) return null
  return { address: canonicalIpv6(bare) + scope, version: "IPv6" }
}

/** `a.b.c.d[:port]` or `[v6][:port]` or a bare IPv6 address; `null` if `text` is none of them. */
export const parseIpAddressWithPort = (text: string): IpAddressWithPort | null => {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text)
  if (bracketed !== null) {
    const ip = parseIpAddress(bracketed[1]!)
    return ip === null || ip.version !== "IPv6" ? null : { ...ip, port: portOf(bracketed[2]) }
  }
  const v4 = /^([0-9.]+):(\d{1,5})$/.exec(text)
  if (v4 !== null) {
    const ip = parseIpAddress(v4[1]!)
    return ip === null ? null : { ...ip, port: portOf(v4[2]) }
  }
  const ip = parseIpAddress(text)
  return ip === null ? null : { ...ip, port: null }
}

const portOf = (digits: string | undefined): number | null => (digits === undefined ? null : Number(digits))

/**
 * Whether a word was meant as an address (digits and dots, or hex digits with a colon, or a
 * bracket), so that `10.0.0` is reported as a bad address rather than looked up as a host name.
 */
export const looksLikeIpAddress = (text: string): boolean =>
  /^[0-9.]*\.[0-9.]*(:\d*)?$/.test(text) ||
  /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%.*)?$/.test(text) ||
  text.startsWith("[")

/** The address without its `%scope`: what the configuration hash and comparisons use. */
export const withoutScope = (address: string): string => {
  const percent = address.indexOf("%")
  return percent < 0 ? address : address.slice(0, percent)
}

export const ipVersionOf = (address: string): IpVersion => (address.includes(":") ? "IPv6" : "IPv4")

/** 224.0.0.0/4 or ff00::/8. */
export const isMulticast = (address: string): boolean =>
  ipVersionOf(address) === "IPv6"
    ? withoutScope(address).startsWith("ff")
    : (Number(address.split(".")[0]) & 0xf0) === 0xe0

/** `0.0.0.0` or `::`: "any address", allowed for interfaces only. */
export const isUnspecified = (address: string): boolean => address === "0.0.0.0" || withoutScope(address) === "::"

export const unspecifiedAddress = (version: IpVersion): string => (version === "IPv4" ? "0.0.0.0" : "::")

/** Two addresses name the same host address (scopes are node-local and ignored). */
export const sameAddress = (a: string, b: string): boolean => {
  const pa = parseIpAddress(a)
  const pb = parseIpAddress(b)
  return pa !== null && pb !== null && withoutScope(pa.address) === withoutScope(pb.address)
}

/** `10.0.0.1:4803` or `[fe80::1%eth0]:4803`. */
export const formatAddressWithPort = (address: string, port: number): string =>
  ipVersionOf(address) === "IPv6" ? `[${address}]:${port}` : `${address}:${port}`
