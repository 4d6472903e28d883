/**
 * One client connection as the daemon sees it (client-protocol §3, §5, §8.1): the handshake,
 * then the message stream with the validation of §5.3. Pure: bytes come in through
 * {@link ClientSession.receive}, effects go out through {@link SessionIO} and the core.
 *
 * Unlike the reference daemon, every phase may arrive split across reads (§12 item 3); the
 * driver bounds the whole handshake with a timeout.
 */
import {
  ByteQueue,
  type DataDelivery,
  decodeHint,
  encodeDataDelivery,
  encodeHint,
  encodeAccept,
  encodeAuthList,
  encodeRejectByte,
  ENDIAN_TYPE,
  HEADER_LENGTH,
  hasOneBitOf,
  HINT_ALLOWED,
  JOIN_MESS,
  KILL_MESS,
  LEAVE_MESS,
  MAX_DATA_PLUS_GROUPS,
  MAX_GROUP_NAME,
  MAX_GROUPS_PER_MESSAGE,
  MAX_MESSAGE_BODY_LEN,
  NAME_OFFSET,
  parseAuthChoice,
  parseConnect,
  readCString,
  readGroupName,
  readGroupNames,
  readHeader,
  REGULAR_MESS,
  REJECT_AUTH,
  REJECT_NOT_UNIQUE,
  SELF_DISCARD,
  sendsPatchByte,
  SPREAD_VERSION,
  usesAuthExchange,
  type Header,
  type Version
} from "../Protocol/index.js"
import type { DaemonCore } from "../Membership/DaemonCore.js"
import { type AuthPolicy, chooseAuthMethods } from "./Auth.js"

export interface SessionIO {
  /** Write handshake bytes. */
  write(bytes: Buffer): void
  /** Close the socket after what was written. */
  end(): void
  /** Why this session ends, for the log. */
  report(reason: string): void
}

type Phase = "connect" | "authChoice" | "open" | "closed"

/** Bits a delivered data message keeps: the service and SELF_DISCARD (client-protocol §12 item 6). */
const DELIVERED_TYPE_BITS = REGULAR_MESS | SELF_DISCARD

const OPERATION_BITS = JOIN_MESS | LEAVE_MESS | KILL_MESS

export class ClientSession {
  private readonly input = new ByteQueue()
  private phase: Phase = "connect"
  private version: Version | undefined
  private groupMembership = false
  private privateGroup = ""

  constructor(
    readonly id: number,
    private readonly core: DaemonCore,
    private readonly auth: AuthPolicy,
    private readonly io: SessionIO
  ) {}

  get isOperational(): boolean {
    return this.phase === "open"
  }

  get isClosed(): boolean {
    return this.phase === "closed"
  }

  /** Bytes read from the socket. */
  receive(chunk: Buffer): void {
    if (this.phase === "closed") return
    this.input.push(chunk)
    if (this.phase === "connect") this.readConnect()
    if (this.phase === "authChoice") this.readAuthChoice()
    if (this.phase === "open") this.readMessages()
  }

  /** EOF, a socket error or the handshake timeout: the session ends (client-protocol §8.1). */
  end(reason: string): void {
    if (this.phase === "closed") return
    this.io.report(reason)
    this.phase = "closed"
    this.core.disconnect(this.id)
    this.io.end()
  }

  private reject(code: number, reason: string): void {
    this.io.report(reason)
    this.io.write(encodeRejectByte(code))
    this.io.end()
    this.phase = "closed"
    this.core.disconnect(this.id)
  }

  /** (A), client-protocol §3.3. */
  private readConnect(): void {
    if (this.input.length === 0) return
    const parsed = parseConnect(this.input.peek(this.input.length))
    if (parsed._tag === "Need") return
    if (parsed._tag === "Reject") return this.reject(parsed.code, `handshake rejected (${parsed.code})`)
    this.input.take(parsed.consumed)
    const c = parsed.connect
    const name = this.core.reserveName(this.id, c.name)
    if (name === undefined) return this.reject(REJECT_NOT_UNIQUE, `private name "${c.name}" is in use`)
    this.version = c.version
    this.groupMembership = c.groupMembership
    this.privateGroup = this.core.privateGroup(this.id)!
    if (usesAuthExchange(c.version)) {
      const list = this.auth.allowed
      this.io.write(encodeAuthList(list))
      if (list.length === 0) return this.reject(REJECT_AUTH, "no authentication method is enabled")
      this.phase = "authChoice"
      return
    }
    // §3.8: clients before 3.16 have no auth exchange; the daemon decides alone.
    if (this.auth.allowed.includes("NULL")) return this.accept()
    this.reject(REJECT_AUTH, "legacy client and NULL authentication is disabled")
  }

  /** (C) and (D), §3.5–§3.6. */
  private readAuthChoice(): void {
    const parsed = parseAuthChoice(this.input.peek(Math.min(this.input.length, 90)))
    if (parsed._tag === "Need") return
    this.input.take(parsed.consumed)
    const outcome = chooseAuthMethods(this.auth, parsed.methods)
    if (outcome !== "accept") return this.reject(REJECT_AUTH, outcome)
    this.accept()
  }

  /** (E), §3.7. */
  private accept(): void {
    this.io.write(encodeAccept(SPREAD_VERSION, this.privateGroup, sendsPatchByte(this.version!)))
    this.core.open(this.id, this.groupMembership)
    this.phase = "open"
  }

  /** Messages after the handshake: validate each header as soon as it is complete (§5.3). */
  private readMessages(): void {
    while (this.phase === "open" && this.input.length >= HEADER_LENGTH) {
      const head = this.input.peek(HEADER_LENGTH)
      const header = readHeader(head)
      const violation = this.validate(header, head)
      if (violation !== undefined) return this.end(`protocol violation: ${violation}`)
      const total = HEADER_LENGTH + MAX_GROUP_NAME * header.numGroups + header.dataLen
      if (this.input.length < total) return
      this.dispatch(header, this.input.take(total))
    }
  }

  /** §5.3 items 1–5; returns what is wrong, or undefined. */
  private validate(h: Header, head: Buffer): string | undefined {
    const serviceBits = h.type & REGULAR_MESS
    const operationBits = h.type & OPERATION_BITS
    const oneKind = serviceBits === 0 ? hasOneBitOf(operationBits, OPERATION_BITS) : operationBits === 0 && hasOneBitOf(serviceBits, REGULAR_MESS)
    if (!oneKind) {
      return `type 0x${h.type.toString(16)} is not exactly one service or one operation`
    }
    if (readCString(head, 4, MAX_GROUP_NAME - 1) !== this.privateGroup) {
      return `sender "${readCString(head, 4, MAX_GROUP_NAME - 1)}" is not this session's private group`
    }
    if (h.numGroups < 0 || h.numGroups > MAX_GROUPS_PER_MESSAGE) return `num_groups ${h.numGroups} outside 0..100`
    if ((h.hint & ~HINT_ALLOWED) !== 0) return `hint 0x${(h.hint >>> 0).toString(16)} has reserved bits set`
    if (h.dataLen < 0 || h.dataLen > MAX_MESSAGE_BODY_LEN || h.dataLen + MAX_GROUP_NAME * h.numGroups > MAX_DATA_PLUS_GROUPS) {
      return `message too long: data_len ${h.dataLen} with ${h.numGroups} groups`
    }
    return undefined
  }

  private dispatch(h: Header, message: Buffer): void {
    if ((h.type & KILL_MESS) !== 0) {
      this.phase = "closed"
      return this.core.disconnect(this.id, true)
    }
    if ((h.type & (JOIN_MESS | LEAVE_MESS)) !== 0) {
      // Only the first group counts (client-protocol §5.2).
      if (h.numGroups < 1) return this.end("join or leave without a group")
      const group = readGroupName(message, HEADER_LENGTH)
      if ((h.type & JOIN_MESS) !== 0) this.core.join(this.id, group)
      else this.core.leave(this.id, group)
      return
    }
    const groupsEnd = HEADER_LENGTH + MAX_GROUP_NAME * h.numGroups
    const decoded = decodeHint(h.hint)
    const envelope = {
      service: (h.type & ~ENDIAN_TYPE) >>> 0,
      messType: decoded.messType,
      senderBigEndian: decoded.endianMismatch,
      groups: readGroupNames(message, HEADER_LENGTH, h.numGroups),
      payload: message.subarray(groupsEnd, groupsEnd + h.dataLen)
    }
    this.core.multicast(this.id, envelope, deliveryForm(h, message, envelope, this.privateGroup))
  }
}

/**
 * The bytes receivers get (client-protocol §6.1), exactly what {@link encodeDataDelivery} makes
 * of the envelope on any daemon. Usually that is the sender's own message and nothing is copied:
 * a little-endian header whose type has only service bits and SELF_DISCARD (§12 item 6), a hint
 * with both flag bits, and names NUL-padded to 32 bytes.
 */
const deliveryForm = (h: Header, message: Buffer, e: Omit<DataDelivery, "sender">, sender: string): Buffer => {
  const canonical = !h.swapped && h.type === ((h.type & DELIVERED_TYPE_BITS) | ENDIAN_TYPE) >>> 0 &&
    h.hint === encodeHint(e.messType) && namesArePadded(message, e.groups.length)
  return canonical ? message : encodeDataDelivery({ ...e, sender })
}

/** The sender field and the `groups` group fields each hold a NUL and only NULs after it. */
const namesArePadded = (buf: Buffer, groups: number): boolean => {
  if (!isPadded(buf, NAME_OFFSET)) return false
  for (let i = 0; i < groups; i++) if (!isPadded(buf, HEADER_LENGTH + MAX_GROUP_NAME * i)) return false
  return true
}

/** The 32-byte name field at `start` has a NUL and only NULs after it. */
const isPadded = (buf: Buffer, start: number): boolean => {
  const end = start + MAX_GROUP_NAME
  let i = start
  while (i < end && buf[i] !== 0) i++
  if (i === end) return false
  for (; i < end; i++) if (buf[i] !== 0) return false
  return true
}
