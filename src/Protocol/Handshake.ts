/**
 * The connection handshake (client-protocol §3): connect message (A), auth list (B), auth
 * choice (C), accept or reject (E). Parsers are incremental: they take the bytes received so
 * far and answer "need more", a result with the bytes it consumed, or a reject code. Unlike the
 * reference daemon, ours accepts a handshake split across reads (§12 item 3).
 */
import {
  ACCEPT_SESSION,
  AUTH_CHOICE_LENGTH,
  isLegalNameByte,
  MAX_AUTH_METHODS,
  MAX_AUTH_NAME,
  MAX_GROUP_NAME,
  MAX_PRIVATE_NAME,
  REJECT_ILLEGAL_NAME,
  REJECT_VERSION
} from "./Constants.js"
import { protocolError } from "./ProtocolError.js"

export interface Version {
  readonly major: number
  readonly minor: number
  readonly patch: number
}

const versionNumber = (major: number, minor: number, patch: number): number => major * 10000 + minor * 100 + patch

/** Clients newer than 3.14 send a patch byte, and get one back in the accept (§3.3 step 3, §3.7). */
export const sendsPatchByte = (v: Version): boolean => versionNumber(v.major, v.minor, 0) > 31400
/** Clients from 3.16 on run the auth exchange (§3.8). */
export const usesAuthExchange = (v: Version): boolean => versionNumber(v.major, v.minor, v.patch) >= 31600

export type Need = { readonly _tag: "Need" }
export type Reject = { readonly _tag: "Reject"; readonly code: number }
const NEED: Need = { _tag: "Need" }

// ---------------------------------------------------------------------------------------------
// (A) connect message

export interface ConnectMessage {
  readonly version: Version
  /** Flags bit 0: deliver membership messages (§3.2). */
  readonly groupMembership: boolean
  /** `flags / 16`, stored but without effect in Spread. */
  readonly priority: number
  /** The private name; empty asks the daemon to invent one (§3.3 step 6). */
  readonly name: string
}

/** Encodes (A). Names longer than 10 bytes are truncated, as libspread does (§3.2). */
export const encodeConnect = (c: ConnectMessage): Buffer => {
  const name = Buffer.from(c.name, "latin1").subarray(0, MAX_PRIVATE_NAME)
  const head = sendsPatchByte(c.version) ? [c.version.major, c.version.minor, c.version.patch] : [c.version.major, c.version.minor]
  const flags = (c.groupMembership ? 1 : 0) | (c.priority >= 1 ? 0x10 : 0)
  return Buffer.concat([Buffer.from([...head, flags, name.length]), name])
}

export type ConnectParse = Need | Reject | { readonly _tag: "Connect"; readonly connect: ConnectMessage; readonly consumed: number }

/** Daemon side: parses (A) from the bytes received so far (§3.3). */
export const parseConnect = (buf: Buffer): ConnectParse => {
  if (buf.length < 2) return NEED
  const major = buf.readInt8(0)
  const minor = buf.readInt8(1)
  const withPatch = versionNumber(major, minor, 0) > 31400
  let pos = 2
  let patch = 0
  if (withPatch) {
    if (buf.length < 3) return NEED
    patch = buf.readInt8(2)
    pos = 3
  }
  if (versionNumber(major, minor, patch) < 30100) return { _tag: "Reject", code: REJECT_VERSION }
  if (buf.length < pos + 2) return NEED
  const flags = buf[pos]!
  const length = buf.readInt8(pos + 1)
  pos += 2
  if (length < 0 || length > MAX_PRIVATE_NAME) return { _tag: "Reject", code: REJECT_ILLEGAL_NAME }
  if (buf.length < pos + length) return NEED
  for (let i = pos; i < pos + length; i++) {
    if (!isLegalNameByte(buf[i]!)) return { _tag: "Reject", code: REJECT_ILLEGAL_NAME }
  }
  return {
    _tag: "Connect",
    connect: {
      version: { major, minor, patch },
      groupMembership: flags % 2 === 1,
      priority: flags >> 4,
      name: buf.toString("latin1", pos, pos + length)
    },
    consumed: pos + length
  }
}

// ---------------------------------------------------------------------------------------------
// (B) auth list

/** Each enabled method followed by one space, after a length byte (§3.4). */
export const encodeAuthList = (methods: ReadonlyArray<string>): Buffer => {
  const text = Buffer.from(methods.map((m) => `${m} `).join(""), "latin1")
  return Buffer.concat([Buffer.from([text.length]), text])
}

export type AuthListParse = Need | Reject | { readonly _tag: "AuthList"; readonly methods: ReadonlyArray<string>; readonly consumed: number }

/** Client side: the first byte is a length 0..90, or a reject code ≥ 0x80 (§3.4). */
export const parseAuthList = (buf: Buffer): AuthListParse => {
  if (buf.length < 1) return NEED
  const first = buf[0]!
  if (first >= 0x80) return { _tag: "Reject", code: first - 256 }
  if (first > AUTH_CHOICE_LENGTH) return protocolError(`auth list length ${first} exceeds ${AUTH_CHOICE_LENGTH}`)
  if (buf.length < 1 + first) return NEED
  const methods = buf.toString("latin1", 1, 1 + first).split(" ").filter((m) => m.length > 0)
  return { _tag: "AuthList", methods, consumed: 1 + first }
}

// ---------------------------------------------------------------------------------------------
// (C) auth choice

/** Exactly 90 bytes: three 30-byte slots, NUL-padded; unused slots zero (§3.5). */
export const encodeAuthChoice = (methods: ReadonlyArray<string>): Buffer => {
  const buf = Buffer.alloc(AUTH_CHOICE_LENGTH)
  methods.slice(0, MAX_AUTH_METHODS).forEach((m, i) => buf.write(m, i * MAX_AUTH_NAME, Math.min(m.length, MAX_AUTH_NAME), "latin1"))
  return buf
}

/** Daemon side: the requested methods, walking the slots until an empty one (bounded: §12 item 5). */
export const parseAuthChoice = (buf: Buffer): Need | { readonly _tag: "AuthChoice"; readonly methods: ReadonlyArray<string>; readonly consumed: number } => {
  if (buf.length < AUTH_CHOICE_LENGTH) return NEED
  const methods: Array<string> = []
  for (let slot = 0; slot < MAX_AUTH_METHODS; slot++) {
    const start = slot * MAX_AUTH_NAME
    let end = start
    while (end < start + MAX_AUTH_NAME && buf[end] !== 0) end++
    if (end === start) break
    methods.push(buf.toString("latin1", start, end))
  }
  return { _tag: "AuthChoice", methods, consumed: AUTH_CHOICE_LENGTH }
}

// ---------------------------------------------------------------------------------------------
// (E) accept

/** `01 major minor [patch] len name` — the patch byte only for clients ≥ 3.15 (§3.7). */
export const encodeAccept = (daemon: Version, privateGroup: string, withPatch: boolean): Buffer => {
  const name = Buffer.from(privateGroup, "latin1")
  const head = withPatch ? [ACCEPT_SESSION, daemon.major, daemon.minor, daemon.patch] : [ACCEPT_SESSION, daemon.major, daemon.minor]
  return Buffer.concat([Buffer.from([...head, name.length]), name])
}

/** A single reject byte (§3.9). */
export const encodeRejectByte = (code: number): Buffer => Buffer.from([code & 0xff])

export type AcceptParse = Need | Reject | { readonly _tag: "Accept"; readonly version: Version; readonly privateGroup: string; readonly consumed: number }

/** Client side: parses (E) as a client that sent a patch byte (`withPatch`) expects it (§3.7). */
export const parseAccept = (buf: Buffer, withPatch: boolean): AcceptParse => {
  if (buf.length < 1) return NEED
  const first = buf.readInt8(0)
  if (first !== ACCEPT_SESSION) return { _tag: "Reject", code: first }
  const head = withPatch ? 5 : 4
  if (buf.length < head) return NEED
  const major = buf.readInt8(1)
  const minor = buf.readInt8(2)
  const patch = withPatch ? buf.readInt8(3) : 0
  const length = buf.readInt8(head - 1)
  if (major < 0 || minor < 0 || patch < 0 || length < 0 || length >= MAX_GROUP_NAME) {
    return protocolError(`malformed accept: version ${major}.${minor}.${patch}, private group length ${length}`)
  }
  if (major < 3) return { _tag: "Reject", code: REJECT_VERSION }
  if (buf.length < head + length) return NEED
  return {
    _tag: "Accept",
    version: { major, minor, patch },
    privateGroup: buf.toString("latin1", head, head + length),
    consumed: head + length
  }
}
