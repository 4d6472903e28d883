/**
 * The `Key = value` settings of `spread.conf`: Spread 5.0.1's (config_gram.l, config_parse.y,
 * `docs/sample.spread.conf`) and ours (daemon-protocol §9.1), each with the reader of its value.
 * Keywords and word values (`ON`, `Yes`, `IPv4`) are matched without regard to case.
 */
import type { Cursor, Located } from "./Cursor.js"
import {
  MAX_DATAGRAM,
  MAX_IDLE_ROTATIONS,
  MAX_MESSAGE_SIZE,
  MAX_USER_NAME,
  MAX_WINDOW,
  MIN_PACKET_SIZE
} from "./Defaults.js"
import type { Token } from "./Lexer.js"
import {
  AUTH_METHODS,
  type AuthMethod,
  DEBUG_FLAGS,
  type DebugFlag,
  EVENT_PRIORITIES,
  type EventPriority,
  type IpVersion
} from "./Model.js"

/** The value each setting yields once read. */
export interface SettingValues {
  readonly ActiveIPVersion: IpVersion
  readonly WideAreaNetwork: boolean
  readonly AcceleratedRing: boolean
  readonly Transport: "multicast" | "unicast"
  readonly Window: number
  readonly PersonalWindow: number
  readonly AcceleratedWindow: number
  readonly TokenTimeout: number
  readonly HurryTimeout: number
  readonly AliveTimeout: number
  readonly JoinTimeout: number
  readonly RepTimeout: number
  readonly SegTimeout: number
  readonly GatherTimeout: number
  readonly FormTimeout: number
  readonly LookupTimeout: number
  readonly TokenRetransmitTimeout: number
  readonly ProbeInterval: number
  readonly IdleRotationsBeforeHold: number
  readonly MaxPacketSize: number
  readonly MaxTokenSize: number
  readonly MaxMessageSize: number
  readonly MaxSeqGap: number
  readonly MaxSessionMessages: number
  readonly MaxSessionBytes: number
  readonly MaxGroupsStateSize: number
  readonly DebugFlags: ReadonlyArray<DebugFlag>
  readonly EventPriority: EventPriority
  readonly EventLogFile: string
  /** `null` for a bare `EventTimeStamp` (Spread's default format). */
  readonly EventTimeStamp: string | null
  readonly EventPreciseTimeStamp: boolean
  readonly DangerousMonitor: boolean
  readonly SocketPortReuse: "auto" | "on" | "off"
  readonly RuntimeDir: string
  readonly DaemonUser: string
  readonly DaemonGroup: string
  readonly AllowedAuthMethods: ReadonlyArray<AuthMethod>
  readonly RequiredAuthMethods: ReadonlyArray<AuthMethod>
  readonly AccessControlPolicy: "PERMIT"
  readonly ExcludeSegAddrsFromHash: boolean
  readonly IgnoreMulticastJoinErrors: boolean
  readonly MonitorKey: string
}
export type SettingName = keyof SettingValues

/** Settings as read from one file; a setting absent from the file is absent here. */
export type RawSettings = { -readonly [K in SettingName]?: Located<SettingValues[K]> }

type Reader<A> = (c: Cursor) => A

const word = (c: Cursor, expected: string): Token => {
  const t = c.peek()
  return t.kind === "word" ? c.next() : c.fail(expected, t)
}

/** A word or a quoted string. */
const text = (expected: string, maxLength = Infinity): Reader<string> => (c) => {
  const t = c.peek()
  if ((t.kind !== "word" && t.kind !== "quoted") || t.text === "") return c.fail(expected, t)
  if (t.text.length > maxLength) return c.fail(`${expected} of at most ${maxLength} characters`, t)
  return c.next().text
}

/** A whole decimal number in `[min, max]`. */
export const wholeNumber = (min: number, max: number, unit = ""): Reader<number> => (c) => {
  const expected = `a whole number${unit} from ${min} to ${max}`
  const t = word(c, expected)
  const n = /^\d+$/.test(t.text) ? Number(t.text) : NaN
  return n >= min && n <= max ? n : c.fail(expected, t)
}

/** One of `choices` (any case), mapped to its value. */
const choice = <A>(expected: string, choices: Readonly<Record<string, A>>): Reader<A> => (c) => {
  const t = c.peek()
  const key = t.kind === "word" ? t.text.toLowerCase() : ""
  if (!Object.hasOwn(choices, key)) return c.fail(expected, t)
  c.next()
  return choices[key]!
}

/** Spread's booleans are `true`/`yes` and `false`/`no`; its sample file also writes `on`/`off`. */
const boolean = choice("true, false, yes, no, on or off", {
  true: true,
  yes: true,
  on: true,
  false: false,
  no: false,
  off: false
})

const MAX_32 = 0x7fff_ffff
const timeout = wholeNumber(1, MAX_32, " of milliseconds")

/** `{ FLAG !FLAG … }` evaluated left to right from nothing, as Spread's `AlarmBitComp`. */
const debugFlags: Reader<ReadonlyArray<DebugFlag>> = (c) => {
  const expected = `a debug flag (${DEBUG_FLAGS.join(" ")} ALL NONE), "!" or "}"`
  c.take("{", `"{" to open the list of debug flags`)
  const enabled = new Set<DebugFlag>()
  for (;;) {
    const t = c.peek()
    if (t.kind === "}") break
    const negated = t.kind === "!"
    if (negated) c.next()
    const flagToken = word(c, expected)
    const name = flagToken.text.toUpperCase()
    const flags: ReadonlyArray<DebugFlag> =
      name === "ALL" ? DEBUG_FLAGS : name === "NONE" ? [] : DEBUG_FLAGS.filter((f) => f === name)
    if (flags.length === 0 && name !== "NONE") c.fail(expected, flagToken)
    for (const f of flags) {
      if (negated) enabled.delete(f)
      else enabled.add(f)
    }
  }
  c.next()
  return DEBUG_FLAGS.filter((f) => enabled.has(f))
}

/** A word or quoted list of method names separated by spaces, e.g. `"NULL IP"`. */
const authMethods: Reader<ReadonlyArray<AuthMethod>> = (c) => {
  const expected = `authentication methods (${AUTH_METHODS.join(", ")})`
  const t = c.peek()
  if (t.kind !== "word" && t.kind !== "quoted") return c.fail(expected, t)
  const methods = new Set<AuthMethod>()
  for (const name of t.text.split(" ").filter((n) => n !== "")) {
    const method = AUTH_METHODS.find((m) => m === name.toUpperCase())
    if (method === undefined) return c.fail(expected, { ...t, kind: "word", text: name })
    methods.add(method)
  }
  c.next()
  return AUTH_METHODS.filter((m) => methods.has(m))
}

const eventTimeStamp: Reader<string | null> = (c) => {
  if (c.peek().kind !== "=") return null
  c.next()
  return text("a time-stamp format such as \"[%a %d %b %Y %H:%M:%S]\"")(c)
}

/** A setting without `= value` (`EventPreciseTimeStamp`). */
const bare: Reader<boolean> = () => true

interface Setting<A> {
  /** Whether `=` follows the keyword; `optional` = the reader decides. */
  readonly equals: "required" | "none" | "optional"
  readonly read: Reader<A>
}
const setting = <A>(read: Reader<A>): Setting<A> => ({ equals: "required", read })

const size = (min: number, max: number) => setting(wholeNumber(min, max, " of bytes"))

/** Every setting, by its canonical spelling. */
export const SETTINGS: { readonly [K in SettingName]: Setting<SettingValues[K]> } = {
  ActiveIPVersion: setting(choice("IPv4 or IPv6", { ipv4: "IPv4", ipv6: "IPv6" } as const)),
  WideAreaNetwork: setting(boolean),
  AcceleratedRing: setting(boolean),
  Transport: setting(choice("multicast or unicast", { multicast: "multicast", unicast: "unicast" } as const)),
  Window: setting(wholeNumber(1, MAX_WINDOW)),
  PersonalWindow: setting(wholeNumber(1, MAX_WINDOW)),
  AcceleratedWindow: setting(wholeNumber(0, MAX_WINDOW)),
  TokenTimeout: setting(timeout),
  HurryTimeout: setting(timeout),
  AliveTimeout: setting(timeout),
  JoinTimeout: setting(timeout),
  RepTimeout: setting(timeout),
  SegTimeout: setting(timeout),
  GatherTimeout: setting(timeout),
  FormTimeout: setting(timeout),
  LookupTimeout: setting(timeout),
  TokenRetransmitTimeout: setting(timeout),
  ProbeInterval: setting(timeout),
  IdleRotationsBeforeHold: setting(wholeNumber(1, MAX_IDLE_ROTATIONS)),
  MaxPacketSize: size(MIN_PACKET_SIZE, MAX_DATAGRAM),
  MaxTokenSize: size(MIN_PACKET_SIZE, MAX_DATAGRAM),
  MaxMessageSize: size(1, MAX_MESSAGE_SIZE),
  MaxSeqGap: setting(wholeNumber(1, MAX_32, " of packets")),
  MaxSessionMessages: setting(wholeNumber(1, MAX_32)),
  MaxSessionBytes: size(1, Number.MAX_SAFE_INTEGER),
  MaxGroupsStateSize: size(1, Number.MAX_SAFE_INTEGER),
  DebugFlags: setting(debugFlags),
  EventPriority: setting(
    choice("an event priority (pDEBUG, INFO, WARNING, ERROR, CRITICAL or FATAL)", {
      pdebug: "debug",
      ...Object.fromEntries(EVENT_PRIORITIES.slice(1).map((p) => [p, p]))
    } as Record<string, EventPriority>)
  ),
  EventLogFile: setting(text("a file name")),
  EventTimeStamp: { equals: "optional", read: eventTimeStamp },
  EventPreciseTimeStamp: { equals: "none", read: bare },
  DangerousMonitor: setting(boolean),
  SocketPortReuse: setting(choice("auto, on or off", { auto: "auto", on: "on", off: "off" } as const)),
  RuntimeDir: setting(text("a directory")),
  DaemonUser: setting(text("a user name", MAX_USER_NAME)),
  DaemonGroup: setting(text("a group name", MAX_USER_NAME)),
  AllowedAuthMethods: setting(authMethods),
  RequiredAuthMethods: setting(authMethods),
  AccessControlPolicy: setting(choice("an access control policy (PERMIT)", { permit: "PERMIT" } as const)),
  ExcludeSegAddrsFromHash: setting(boolean),
  IgnoreMulticastJoinErrors: setting(boolean),
  MonitorKey: setting(text("a monitor key"))
}

export const SETTING_NAMES = Object.keys(SETTINGS) as ReadonlyArray<SettingName>

const byLowerCase = new Map(SETTING_NAMES.map((name) => [name.toLowerCase(), name]))

/** The canonical name of a setting keyword written in any case, or `undefined`. */
export const settingNamed = (keyword: string): SettingName | undefined => byLowerCase.get(keyword.toLowerCase())

/** The known keyword closest to a misspelt one (at most 2 edits away), for the error message. */
export const closestSettingName = (keyword: string): SettingName | undefined => {
  let best: SettingName | undefined
  let bestDistance = 3
  for (const name of SETTING_NAMES) {
    const d = editDistance(keyword.toLowerCase(), name.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [name, d]
  }
  return best
}

const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}
