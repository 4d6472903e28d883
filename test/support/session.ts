/**
 * Byte-level client steps for daemon tests, built from the protocol codecs: a full handshake,
 * join/leave/multicast/kill, and reading the next message decoded.
 */
import {
  AGREED_MESS,
  type DaemonMessage,
  decodeDaemonMessage,
  encodeAuthChoice,
  encodeClientMessage,
  encodeConnect,
  encodeJoin,
  encodeKill,
  encodeLeave
} from "../../src/Protocol/index.ts"
import { RawClient } from "./rawClient.ts"

export interface Peer {
  readonly client: RawClient
  readonly privateGroup: string
}

export type Target = { readonly port: number } | { readonly path: string }

/** Connects and completes the handshake (5.0.1 client, NULL auth). */
export const connectPeer = async (target: Target, name: string, groupMembership = true): Promise<Peer> => {
  const client = await RawClient.connect(target)
  client.write(encodeConnect({ version: { major: 5, minor: 0, patch: 1 }, groupMembership, priority: 0, name }))
  const length = await client.read(1)
  if (length[0]! >= 0x80) throw new Error(`handshake rejected: ${length[0]}`)
  await client.read(length[0]!)
  client.write(encodeAuthChoice(["NULL"]))
  const head = await client.read(5)
  if (head[0] !== 1) throw new Error(`handshake rejected: ${head[0]}`)
  const privateGroup = (await client.read(head[4]!)).toString("latin1")
  return { client, privateGroup }
}

export const join = (p: Peer, group: string): void => p.client.write(encodeJoin(p.privateGroup, group))
export const leave = (p: Peer, group: string): void => p.client.write(encodeLeave(p.privateGroup, group))
export const kill = (p: Peer): void => p.client.write(encodeKill(p.privateGroup))

export const multicast = (
  p: Peer,
  groups: ReadonlyArray<string>,
  data: Uint8Array,
  options: { readonly service?: number; readonly messType?: number } = {}
): void =>
  p.client.write(encodeClientMessage({
    type: options.service ?? AGREED_MESS,
    sender: p.privateGroup,
    groups,
    messType: options.messType ?? 0,
    data
  }))

export const receive = async (p: Peer, timeoutMs?: number): Promise<DaemonMessage> =>
  decodeDaemonMessage(await p.client.readMessage(timeoutMs), p.privateGroup)

/** Joins and consumes the joiner's own membership notice. */
export const joinAndWait = async (p: Peer, group: string): Promise<void> => {
  join(p, group)
  const m = await receive(p)
  if (m._tag !== "Membership" || m.group !== group) throw new Error(`expected the join of ${group}, got ${m._tag}`)
}
