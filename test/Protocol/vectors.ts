/**
 * Shared helpers for the codec tests: typed access to the golden vectors in `test/fixtures`
 * (format: test/fixtures/README.md), hex helpers, the `sp_receive` view of a decoded message and
 * a small client-side stream reader built from the public codec pieces.
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ByteQueue } from "../../src/Protocol/ByteQueue.ts"
import { ENDIAN_TYPE, HEADER_LENGTH } from "../../src/Protocol/Constants.ts"
import { type DaemonMessage, daemonMessageLength, decodeDaemonMessage } from "../../src/Protocol/DaemonMessage.ts"
import { GROUP_ID_LENGTH } from "../../src/Protocol/GroupId.ts"
import {
  type AcceptParse,
  type AuthListParse,
  parseAccept,
  parseAuthList,
  sendsPatchByte,
  usesAuthExchange,
  type Version
} from "../../src/Protocol/Handshake.ts"
import { type ByteOrder, readHeader } from "../../src/Protocol/Header.ts"

// ---------------------------------------------------------------------------------------------
// Vector file types (only the keys the tests read).

export interface Varying {
  readonly offset: number
  readonly length: number
  readonly why: string
}

export interface DataSpec {
  readonly length: number
  readonly text?: string
  readonly pattern?: string
}

export interface ConnectFields {
  readonly kind: "connect"
  readonly version: ReadonlyArray<number>
  readonly flags: number
  readonly name: string
}

export interface AuthChoiceFields {
  readonly kind: "auth_choice"
  readonly slots: ReadonlyArray<string>
}

export interface MessageFields {
  readonly kind: "message"
  readonly type: string
  readonly byte_order: ByteOrder
  readonly sender: string
  readonly num_groups: number
  readonly groups: ReadonlyArray<string>
  readonly hint: string
  readonly mess_type: number
  readonly data_len: number
  readonly data?: DataSpec
}

export type C2dFields = ConnectFields | AuthChoiceFields | MessageFields

export interface SpReceive {
  readonly receiver_byte_order: ByteOrder
  readonly return: number
  readonly service_type: number
  readonly sender: string
  readonly num_groups: number
  readonly groups: ReadonlyArray<string>
  readonly mess_type: number
  readonly endian_mismatch: number
}

export interface MembInfo {
  readonly changed_member: string
  readonly num_vs_sets: number
  readonly my_vs_set: { readonly num_members: number; readonly members_offset: number }
}

export interface MembershipDecoded {
  readonly gid: readonly [number, number, number]
  readonly gid_label: string
  readonly num_vs_sets?: number
  readonly local_vs_set_offset?: number
  readonly vs_sets?: ReadonlyArray<ReadonlyArray<string>>
  readonly local_vs_set_index?: number
  readonly memb_info?: MembInfo
}

export interface MessageDecoded {
  readonly kind: "message"
  readonly type: string
  readonly daemon_byte_order: ByteOrder
  readonly name: string
  readonly num_groups: number
  readonly groups: ReadonlyArray<string>
  readonly hint_bytes: string
  readonly data_len: number
  readonly sp_receive: SpReceive
  readonly membership?: MembershipDecoded
  readonly data?: DataSpec
}

export type D2cDecoded =
  | { readonly kind: "auth_list"; readonly text: string; readonly methods: ReadonlyArray<string> }
  | { readonly kind: "accept"; readonly version: ReadonlyArray<number>; readonly private_group: string }
  | { readonly kind: "reject"; readonly code: number; readonly name: string }
  | MessageDecoded

export interface C2dStep {
  readonly dir: "c2d"
  readonly conn: string
  readonly hex: string
  readonly fields: C2dFields
  readonly varying?: ReadonlyArray<Varying>
}

export interface D2cStep {
  readonly dir: "d2c"
  readonly conn: string
  readonly hex: string
  readonly event?: "eof" | "silence"
  readonly decoded?: D2cDecoded
  readonly varying: ReadonlyArray<Varying>
}

export interface CtlStep {
  readonly dir: "ctl"
  readonly conn: string
  readonly event: string
}

export type Step = C2dStep | D2cStep | CtlStep

export interface Connection {
  readonly client_byte_order: ByteOrder
  readonly private_name: string | null
  readonly group_membership: boolean
  readonly daemon: string
  readonly private_group?: string
}

export interface Fixture {
  readonly file: string
  readonly format: string
  readonly spread_conf: string
  readonly connections: Readonly<Record<string, Connection>>
  readonly steps: ReadonlyArray<Step>
}

const FIXTURES_DIR = new URL("../fixtures/", import.meta.url)

export const fixtureFiles: ReadonlyArray<string> = readdirSync(fileURLToPath(FIXTURES_DIR))
  .filter((f) => f.endsWith(".json"))
  .sort()

const cache = new Map<string, Fixture>()

export const loadFixture = (file: string): Fixture => {
  const hit = cache.get(file)
  if (hit) return hit
  const raw: unknown = JSON.parse(readFileSync(new URL(file, FIXTURES_DIR), "utf8"))
  if (typeof raw !== "object" || raw === null || !("steps" in raw) || !("connections" in raw)) {
    throw new Error(`${file}: not a golden vector file`)
  }
  const fixture = { ...(raw as Omit<Fixture, "file">), file }
  if (!fixture.format.startsWith("spread-ts golden vector, version 1")) throw new Error(`${file}: unknown format ${fixture.format}`)
  cache.set(file, fixture)
  return fixture
}

export const allFixtures = (): ReadonlyArray<Fixture> => fixtureFiles.map(loadFixture)

export const c2dSteps = (f: Fixture): ReadonlyArray<C2dStep> => f.steps.filter((s): s is C2dStep => s.dir === "c2d")
export const d2cSteps = (f: Fixture): ReadonlyArray<D2cStep> => f.steps.filter((s): s is D2cStep => s.dir === "d2c")

/** The d2c steps that carry bytes (not `eof` / `silence` events). */
export const d2cItems = (f: Fixture): ReadonlyArray<D2cStep & { readonly decoded: D2cDecoded }> =>
  d2cSteps(f).filter((s): s is D2cStep & { readonly decoded: D2cDecoded } => s.event === undefined && s.decoded !== undefined)

export const connectionOf = (f: Fixture, conn: string): Connection => {
  const c = f.connections[conn]
  if (!c) throw new Error(`${f.file}: no connection ${conn}`)
  return c
}

/** The version a connection's client announced in its connect message. */
export const clientVersionOf = (f: Fixture, conn: string): Version => {
  const step = c2dSteps(f).find((s) => s.conn === conn && s.fields.kind === "connect")
  if (!step || step.fields.kind !== "connect") throw new Error(`${f.file}: ${conn} sends no connect message`)
  return versionOf(step.fields.version)
}

export const versionOf = (v: ReadonlyArray<number>): Version => ({ major: v[0] ?? 0, minor: v[1] ?? 0, patch: v[2] ?? 0 })

// ---------------------------------------------------------------------------------------------
// Bytes.

export const fromHex = (hex: string): Buffer => Buffer.from(hex, "hex")
export const toHex = (buf: Uint8Array): string => Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("hex")

/** `hex` with the `varying` byte ranges replaced by `..`, for comparisons that skip them. */
export const maskHex = (hex: string, varying: ReadonlyArray<Varying> = []): string => {
  const chars = hex.split("")
  for (const v of varying) {
    for (let i = v.offset; i < v.offset + v.length; i++) {
      if (2 * i + 1 < chars.length) {
        chars[2 * i] = "."
        chars[2 * i + 1] = "."
      }
    }
  }
  return chars.join("")
}

/** The bytes a `data` spec describes: its text, or the `byte i = i mod 256` pattern. */
export const dataBytes = (d: DataSpec | undefined): Buffer => {
  if (d === undefined) return Buffer.alloc(0)
  if (d.text !== undefined) return Buffer.from(d.text, "latin1")
  if (d.pattern === "byte i = i mod 256") return Buffer.from(Array.from({ length: d.length }, (_, i) => i % 256))
  throw new Error(`unknown data spec ${JSON.stringify(d)}`)
}

export const parseHexWord = (s: string): number => Number.parseInt(s, 16) >>> 0

// ---------------------------------------------------------------------------------------------
// The sp_receive view of one decoded message (client-protocol §7.1, §7.2).

export interface SpReceiveView {
  readonly return: number
  readonly service_type: number
  readonly sender: string
  readonly num_groups: number
  readonly groups: ReadonlyArray<string>
  readonly mess_type: number
  readonly endian_mismatch: number
}

/** Body length of a regular membership: 12 gid + 4 + 4 + Σ(4 + 32·nᵢ) (§6.3). */
const membershipBodyLength = (vsSets: ReadonlyArray<ReadonlyArray<string>>): number =>
  vsSets.reduce((n, set) => n + 4 + 32 * set.length, 20)

/**
 * What `SP_receive` returns for `m` on a receiver of `receiverOrder`. Our decoder runs on a
 * little-endian host; for a big-endian receiver only `endian_mismatch` of data/reject messages
 * differs: the hint flag is symmetric under a byte swap, so a well-formed hint (both flag bits set
 * or both clear) that matches one host order mismatches the other. Everything else (service type,
 * sender, groups, mess_type, own index, return value) is order-independent once the header words
 * are read in the daemon's order, which `readHeader` does.
 */
export const spReceiveView = (m: DaemonMessage, receiverOrder: ByteOrder = "little"): SpReceiveView => {
  const flip = (mismatch: boolean): number => (receiverOrder === "little" ? mismatch : !mismatch) ? 1 : 0
  switch (m._tag) {
    case "Data":
    case "Reject":
      return {
        return: m.data.length,
        service_type: m.serviceType,
        sender: m.sender,
        num_groups: m.groups.length,
        groups: m.groups,
        mess_type: m.messType,
        endian_mismatch: flip(m.endianMismatch)
      }
    case "Membership":
      return {
        return: membershipBodyLength(m.vsSets),
        service_type: m.serviceType,
        sender: m.group,
        num_groups: m.members.length,
        groups: m.members,
        mess_type: m.myIndex,
        endian_mismatch: 0
      }
    case "Transition":
      return { return: GROUP_ID_LENGTH, service_type: m.serviceType, sender: m.group, num_groups: 0, groups: [], mess_type: -1, endian_mismatch: 0 }
    case "SelfLeave":
      return { return: 0, service_type: m.serviceType, sender: m.group, num_groups: 0, groups: [], mess_type: -1, endian_mismatch: 0 }
  }
}

export const expectedSpReceive = (s: SpReceive): SpReceiveView => ({
  return: s.return,
  service_type: s.service_type,
  sender: s.sender,
  num_groups: s.num_groups,
  groups: s.groups,
  mess_type: s.mess_type,
  endian_mismatch: s.endian_mismatch
})

/** A hint word whose two flag bits agree, so that one host order matches and the other does not. */
export const isWellFormedHintFlag = (rawHintLE: number): boolean => {
  const flag = (rawHintLE & ENDIAN_TYPE) >>> 0
  return flag === 0 || flag === ENDIAN_TYPE
}

// ---------------------------------------------------------------------------------------------
// A client-side reader of one connection's d2c byte stream, built from the public pieces.

export type ClientItem =
  | { readonly kind: "auth_list"; readonly parse: AuthListParse }
  | { readonly kind: "accept"; readonly parse: AcceptParse }
  | { readonly kind: "message"; readonly message: DaemonMessage; readonly bytes: Buffer }

type Phase = "auth_list" | "accept" | "messages" | "closed"

/**
 * Reads a connection's daemon → client stream as a client of `version` does: the auth list
 * (clients ≥ 3.16), the accept (patch byte for clients ≥ 3.15), then messages framed with
 * `ByteQueue` + `readHeader` + `daemonMessageLength` and decoded for the accepted private group.
 * A reject ends the stream. Feed it chunks of any size.
 */
export class ClientStream {
  readonly items: Array<ClientItem> = []
  private readonly queue = new ByteQueue()
  private phase: Phase
  private privateGroup: string

  constructor(private readonly version: Version, privateGroup?: string) {
    this.phase = usesAuthExchange(version) ? "auth_list" : "accept"
    this.privateGroup = privateGroup ?? ""
  }

  push(chunk: Buffer): void {
    this.queue.push(chunk)
    for (;;) {
      if (!this.step()) return
    }
  }

  /** Bytes received but not yet making a whole item. */
  get pending(): number {
    return this.queue.length
  }

  private step(): boolean {
    if (this.queue.length === 0) return false
    switch (this.phase) {
      case "closed":
        return false
      case "auth_list": {
        const parse = parseAuthList(this.queue.peek(this.queue.length))
        if (parse._tag === "Need") return false
        this.items.push({ kind: "auth_list", parse })
        this.queue.take(parse._tag === "AuthList" ? parse.consumed : 1)
        this.phase = parse._tag === "AuthList" ? "accept" : "closed"
        return true
      }
      case "accept": {
        const parse = parseAccept(this.queue.peek(this.queue.length), sendsPatchByte(this.version))
        if (parse._tag === "Need") return false
        this.items.push({ kind: "accept", parse })
        this.queue.take(parse._tag === "Accept" ? parse.consumed : 1)
        if (parse._tag === "Accept") {
          this.privateGroup = parse.privateGroup
          this.phase = "messages"
        } else {
          this.phase = "closed"
        }
        return true
      }
      case "messages": {
        if (this.queue.length < HEADER_LENGTH) return false
        const length = daemonMessageLength(readHeader(this.queue.peek(HEADER_LENGTH)))
        if (this.queue.length < length) return false
        const bytes = this.queue.take(length)
        this.items.push({ kind: "message", message: decodeDaemonMessage(bytes, this.privateGroup), bytes })
        return true
      }
    }
  }
}

/**
 * A string that identifies one stream item, for comparing long item lists quickly (deep equality
 * on 100 kB Buffers is slow): the message's bytes in hex and its decoded fields.
 */
export const itemDigest = (item: ClientItem): string => {
  if (item.kind !== "message") return JSON.stringify(item)
  const m = item.message
  const fields = m._tag === "Data" || m._tag === "Reject" ? { ...m, data: toHex(m.data) } : m
  return `${toHex(item.bytes)} ${JSON.stringify(fields)}`
}

/** Frames a stream of daemon messages only (no handshake) with ByteQueue + readHeader. */
export const frameMessages = (chunks: Iterable<Buffer>, privateGroup: string): Array<DaemonMessage> => {
  const queue = new ByteQueue()
  const out: Array<DaemonMessage> = []
  for (const chunk of chunks) {
    queue.push(chunk)
    while (queue.length >= HEADER_LENGTH) {
      const length = daemonMessageLength(readHeader(queue.peek(HEADER_LENGTH)))
      if (queue.length < length) break
      out.push(decodeDaemonMessage(queue.take(length), privateGroup))
    }
  }
  return out
}

/** Splits `buf` into chunks whose sizes cycle through `sizes`. */
export const chunked = (buf: Buffer, sizes: ReadonlyArray<number>): Array<Buffer> => {
  const out: Array<Buffer> = []
  let pos = 0
  let i = 0
  while (pos < buf.length) {
    const n = Math.max(1, sizes[i++ % sizes.length] ?? 1)
    out.push(buf.subarray(pos, pos + n))
    pos += n
  }
  return out
}
