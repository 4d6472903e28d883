/**
 * The pure part of the UDP transport (daemon-protocol §9.2): where a `SendUnicast` or a
 * `SendMulticast` goes, computed once from the configuration. No sockets here.
 *
 * * Data on the segment port P, tokens (and commit tokens) on P + 1.
 * * A multicast reaches my segment with one datagram to its multicast/broadcast address when the
 *   segment has one (`kind` ≠ `unicast-only`) and `Transport = multicast`; every target outside my
 *   segment gets a unicast. Otherwise every target gets a unicast.
 */
import { ipVersionOf, isUnspecified, sameAddress, unspecifiedAddress } from "../Config/Address.js"
import type { DaemonEntry, IpVersion, Segment } from "../Config/Model.js"
import type { Channel } from "../Membership/Ring/Types.js"

/** Where one daemon is reached. */
export interface UdpRoute {
  readonly id: number
  readonly address: string
  /** Port of the DATA channel; TOKEN is `port + 1`. */
  readonly port: number
  /** Reached by my segment's multicast/broadcast datagram (so a multicast needs no unicast). */
  readonly viaGroup: boolean
}

/** My segment's multicast or broadcast destination, when multicasts use one. */
export interface UdpGroup {
  readonly kind: "multicast" | "broadcast"
  /** Every address of the segment; the first is the one sent to. */
  readonly addresses: ReadonlyArray<string>
  readonly port: number
}

export interface UdpRoutesInput {
  readonly me: DaemonEntry
  readonly segments: ReadonlyArray<Segment>
  readonly daemons: ReadonlyArray<DaemonEntry>
  readonly transport: "multicast" | "unicast"
}

export interface UdpRoutes {
  readonly myId: number
  /** My segment's group, or `undefined` when every target is reached by unicast. */
  readonly group: UdpGroup | undefined
  /** Every other configured daemon that has an address, by id. */
  readonly byId: ReadonlyMap<number, UdpRoute>
  /** Configured daemons without an address (unresolved configuration): sends to them are dropped. */
  readonly unaddressed: ReadonlySet<number>
  /** `SendMulticast(CONFIGURED)`: the unicasts, besides the group datagram when `configuredUsesGroup`. */
  readonly configuredUnicasts: ReadonlyArray<UdpRoute>
  readonly configuredUsesGroup: boolean
}

export const portOf = (port: number, channel: Channel): number => (channel === "TOKEN" ? port + 1 : port)

export const buildRoutes = (input: UdpRoutesInput): UdpRoutes => {
  const { me } = input
  const mySegment = input.segments[me.segment]
  const group: UdpGroup | undefined =
    input.transport === "multicast" && mySegment !== undefined && mySegment.kind !== "unicast-only" &&
      mySegment.addresses.length > 0
      ? { kind: mySegment.kind, addresses: mySegment.addresses, port: mySegment.port }
      : undefined
  const byId = new Map<number, UdpRoute>()
  const unaddressed = new Set<number>()
  for (const d of input.daemons) {
    if (d.id === me.id) continue
    if (d.address === null) {
      unaddressed.add(d.id)
      continue
    }
    byId.set(d.id, { id: d.id, address: d.address, port: d.port, viaGroup: group !== undefined && d.segment === me.segment })
  }
  const routes = [...byId.values()]
  return {
    myId: me.id,
    group,
    byId,
    unaddressed,
    configuredUnicasts: routes.filter((r) => !r.viaGroup),
    configuredUsesGroup: routes.some((r) => r.viaGroup)
  }
}

/**
 * The local address the DATA and TOKEN sockets bind to, unless the caller says otherwise:
 * the unspecified address when my segment receives multicasts or broadcasts (a socket bound to a
 * unicast address does not receive them), else my single daemon (`D`) interface, else my
 * configured address. Several daemons of one host can then share a port on distinct addresses.
 */
export const defaultBindAddress = (me: DaemonEntry, routes: UdpRoutes, ipVersion: IpVersion): string => {
  if (routes.group !== undefined) return unspecifiedAddress(ipVersion)
  const d = daemonInterfaces(me)
  if (d.length === 1) return d[0]!
  if (d.length > 1 || me.address === null) return unspecifiedAddress(ipVersion)
  return me.address
}

/** The addresses of my `D` interfaces (empty when the daemon has no interface stanza). */
export const daemonInterfaces = (me: DaemonEntry): ReadonlyArray<string> =>
  me.interfaces.filter((i) => i.roles.includes("D")).map((i) => i.address)

/** The interfaces a multicast group is joined on: my specific `D` interfaces, else my address. */
export const multicastInterfaces = (me: DaemonEntry): ReadonlyArray<string | undefined> => {
  const specific = daemonInterfaces(me).filter((a) => !isUnspecified(a))
  if (specific.length > 0) return specific
  return [me.address ?? undefined]
}

/** The local interfaces by name, as `os.networkInterfaces()` lists them (only addresses are read). */
export type InterfaceTable = Readonly<Record<string, ReadonlyArray<{ readonly address: string }> | undefined>>

/**
 * IPv6 multicast names an interface by its index, which Node takes from the `%scope` of an
 * address (`fd00::1%eth1`); a bare IPv6 address lets the kernel pick the interface, which on a
 * host with several may not be the configured one. So an IPv6 address gets the scope of the
 * local interface that holds it. An IPv4 address, an already scoped one, or one that no
 * interface holds is returned as it is.
 */
export const scopedToInterface = (address: string, interfaces: InterfaceTable): string => {
  if (ipVersionOf(address) !== "IPv6" || address.includes("%")) return address
  for (const [name, list] of Object.entries(interfaces)) {
    if (list?.some((i) => sameAddress(i.address, address)) === true) return `${address}%${name}`
  }
  return address
}

/**
 * What `setMulticastInterface` takes for my multicasts to leave by my interface: my address for
 * IPv4; for IPv6 `::` with the scope of the interface that holds my address, or `undefined`
 * (leave the kernel's choice) when no local interface holds it.
 */
export const multicastSendInterface = (address: string, interfaces: InterfaceTable): string | undefined => {
  if (ipVersionOf(address) === "IPv4") return address
  const scoped = scopedToInterface(address, interfaces)
  const percent = scoped.indexOf("%")
  return percent < 0 ? undefined : `::${scoped.slice(percent)}`
}
