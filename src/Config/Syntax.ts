/**
 * The grammar of `spread.conf` (Spread 5.0.1 config_parse.y), read into a `RawConfig`: what the
 * file says, with positions, before defaults and cross-checks (`Build.ts`).
 *
 * ```
 * file      = { segment | setting }
 * segment   = "Spread_Segment" address[:port] { address } "{" { daemon } "}"
 * daemon    = ( name [address] | address ) [ "VirtualID" "=" n ] [ "{" iface { iface } "}" ] [ ";" ]
 * iface     = { "D" | "C" | "M" } address
 * setting   = Keyword "=" value | "EventTimeStamp" [ "=" format ] | "EventPreciseTimeStamp"
 * ```
 * As in Spread, `name address` is one daemon; `name1 name2` are two daemons found by name lookup.
 */
import {
  type IpAddress,
  type IpAddressWithPort,
  looksLikeIpAddress,
  parseIpAddress,
  parseIpAddressWithPort
} from "./Address.js"
import type { ConfigWarning } from "./ConfigError.js"
import { Cursor, type Located } from "./Cursor.js"
import { MAX_VIRTUAL_ID } from "./Defaults.js"
import { type Token, tokenize } from "./Lexer.js"
import { AUTH_METHODS, type AuthMethod, type InterfaceRole } from "./Model.js"
import {
  closestSettingName,
  type RawSettings,
  SETTINGS,
  type SettingName,
  settingNamed,
  type SettingValues,
  wholeNumber
} from "./Settings.js"

export interface RawInterface {
  readonly roles: ReadonlyArray<InterfaceRole>
  readonly address: Located<IpAddress>
}

export interface RawDaemon {
  readonly at: Token
  /** As written; `null` for an address-only entry. */
  readonly name: Located<string> | null
  /** `null` for a name-only entry. */
  readonly address: Located<IpAddress> | null
  readonly virtualId: Located<number> | null
  /** `null` when the entry has no interface stanza. */
  readonly interfaces: ReadonlyArray<RawInterface> | null
}

export interface RawSegment {
  readonly at: Token
  readonly address: Located<IpAddressWithPort>
  readonly moreAddresses: ReadonlyArray<Located<IpAddress>>
  readonly daemons: ReadonlyArray<RawDaemon>
}

export interface RawConfig {
  readonly file: string
  readonly segments: ReadonlyArray<RawSegment>
  readonly settings: RawSettings
  readonly warnings: ReadonlyArray<ConfigWarning>
  /** Where the file ends, for errors about what it lacks. */
  readonly end: Token
}

const SEGMENT_KEYWORD = "spread_segment"
const ROLES: Readonly<Record<string, InterfaceRole>> = { d: "D", c: "C", m: "M" }

const located = <A>(value: A, at: Token): Located<A> => ({ value, at: { line: at.line, column: at.column } })

/** Parses the text of a configuration file. Throws `ConfigError`. */
export const parseRawConfig = (text: string, file: string): RawConfig => {
  const c = new Cursor(tokenize(text, file), file)
  const segments: Array<RawSegment> = []
  const settings: RawSettings = {}
  const warnings: Array<ConfigWarning> = []
  for (let t = c.peek(); t.kind !== "end"; t = c.peek()) {
    if (t.kind === "word" && t.text.toLowerCase() === SEGMENT_KEYWORD) {
      segments.push(segment(c))
    } else {
      settingLine(c, settings, warnings)
    }
  }
  return { file, segments, settings, warnings, end: c.peek() }
}

const segment = (c: Cursor): RawSegment => {
  const at = c.next()
  const first = c.peek()
  const address = first.kind === "word" ? parseIpAddressWithPort(first.text) : null
  if (address === null) c.fail("a segment address such as 192.168.1.255:4803 after Spread_Segment", first)
  c.next()
  const moreAddresses: Array<Located<IpAddress>> = []
  while (c.peek().kind === "word") {
    const t = c.next()
    const more = parseIpAddress(t.text)
    if (more === null) c.fail(`another segment address (without a port) or "{"`, t)
    moreAddresses.push(located(more, t))
  }
  c.take("{", `"{" to open the segment's daemon list`)
  const daemons: Array<RawDaemon> = []
  while (c.peek().kind !== "}") daemons.push(daemon(c))
  c.next()
  return { at, address: located(address, first), moreAddresses, daemons }
}

const isVirtualIdKeyword = (t: Token): boolean => t.kind === "word" && t.text.toLowerCase() === "virtualid"

const daemon = (c: Cursor): RawDaemon => {
  const start = c.next()
  if (start.kind !== "word" && start.kind !== "quoted") {
    return c.fail(`a daemon name or address, or "}" to close the segment`, start)
  }
  if (start.kind === "word" && start.text.toLowerCase() === SEGMENT_KEYWORD) {
    return c.fail(`"}" to close the segment before the next Spread_Segment`, start)
  }
  let name: Located<string> | null = null
  let address: Located<IpAddress> | null = null
  if (start.kind === "word" && looksLikeIpAddress(start.text)) {
    address = located(ipAddressOrFail(c, start, "a daemon name or an IPv4 or IPv6 address"), start)
  } else {
    name = located(start.text, start)
    const next = c.peek()
    if (next.kind === "word" && looksLikeIpAddress(next.text)) {
      c.next()
      address = located(ipAddressOrFail(c, next, `an IPv4 or IPv6 address after "${start.text}"`), next)
    }
  }
  let virtualId: Located<number> | null = null
  if (isVirtualIdKeyword(c.peek())) {
    c.next()
    c.take("=", `"=" after VirtualID`)
    const t = c.peek()
    virtualId = located(wholeNumber(1, MAX_VIRTUAL_ID)(c), t)
  }
  const interfaces = c.peek().kind === "{" ? interfaceStanza(c) : null
  if (c.peek().kind === ";") c.next()
  return { at: start, name, address, virtualId, interfaces }
}

const ipAddressOrFail = (c: Cursor, t: Token, expected: string): IpAddress => {
  const ip = parseIpAddress(t.text)
  if (ip !== null) return ip
  // config_parse.y: "A daemon's address must not specify a port!"
  const withPort = parseIpAddressWithPort(t.text)
  const hasPort = withPort !== null && withPort.port !== null
  return c.fail(hasPort ? "an address without a port (daemons use their segment's port)" : expected, t)
}

/** `{ D 10.0.0.1  C M 192.168.0.1 }`: roles then an address, per interface. */
const interfaceStanza = (c: Cursor): ReadonlyArray<RawInterface> => {
  c.next()
  const interfaces: Array<RawInterface> = []
  const expected = "interface roles (D, C, M) and an IPv4 or IPv6 address"
  while (c.peek().kind !== "}" || interfaces.length === 0) {
    const roles = new Set<InterfaceRole>()
    let t = c.peek()
    while (t.kind === "word" && Object.hasOwn(ROLES, t.text.toLowerCase())) {
      roles.add(ROLES[t.text.toLowerCase()]!)
      c.next()
      t = c.peek()
    }
    if (t.kind !== "word") c.fail(expected, t)
    const address = ipAddressOrFail(c, t, expected)
    c.next()
    const all: ReadonlyArray<InterfaceRole> = ["D", "C", "M"]
    interfaces.push({ roles: roles.size === 0 ? all : all.filter((r) => roles.has(r)), address: located(address, t) })
  }
  c.next()
  return interfaces
}

const settingLine = (c: Cursor, settings: RawSettings, warnings: Array<ConfigWarning>): void => {
  const keyword = c.peek()
  const name = keyword.kind === "word" ? settingNamed(keyword.text) : undefined
  if (name === undefined) {
    const guess = keyword.kind === "word" ? closestSettingName(keyword.text) : undefined
    return c.fail(
      guess === undefined ? "a setting or Spread_Segment" : `a setting or Spread_Segment (did you mean ${guess}?)`,
      keyword
    )
  }
  c.next()
  const { equals } = SETTINGS[name]
  if (equals === "required") c.take("=", `"=" after ${name}`)
  if (equals === "none" && c.peek().kind === "=") c.fail(`the next setting (${name} takes no value)`)
  if (name === "AllowedAuthMethods" || name === "RequiredAuthMethods") {
    addAuthMethods(settings, name, located(SETTINGS[name].read(c), keyword))
  } else {
    replaceSetting(c, settings, warnings, name, keyword)
  }
}

/**
 * Auth method lists add up when written twice: Spread enables (or requires) methods one
 * statement at a time (config_parse.y, `Acm_auth_set_enabled`).
 */
const addAuthMethods = (
  settings: RawSettings,
  name: "AllowedAuthMethods" | "RequiredAuthMethods",
  value: Located<ReadonlyArray<AuthMethod>>
): void => {
  const before = settings[name]?.value ?? []
  settings[name] = { ...value, value: AUTH_METHODS.filter((m) => before.includes(m) || value.value.includes(m)) }
}

/**
 * Any other setting written twice: Spread applies both in order, so the later value wins (we
 * warn), except that a second, different `ActiveIPVersion` is fatal (configuration.c,
 * `Conf_set_active_ip_version`).
 */
const replaceSetting = <K extends SettingName>(
  c: Cursor,
  settings: RawSettings,
  warnings: Array<ConfigWarning>,
  name: K,
  keyword: Token
): void => {
  const value: Located<SettingValues[K]> = located(SETTINGS[name].read(c), keyword)
  const before: Located<SettingValues[K]> | undefined = settings[name]
  if (before !== undefined) {
    if (name === "ActiveIPVersion" && before.value !== value.value) {
      c.fail(`ActiveIPVersion = ${String(before.value)} as on line ${before.at.line}`, {
        ...keyword,
        text: `ActiveIPVersion = ${String(value.value)}`
      })
    }
    warnings.push({
      file: c.file,
      ...value.at,
      text: `${name} is set again; this value replaces the one of line ${before.at.line}`
    })
  }
  settings[name] = value as RawSettings[K]
}
