/**
 * The one-letter command language of `spuser`/`sptuser` (Spread's user program): parsing a typed
 * line into a command, the answers to its follow-up questions, and the menu. Pure.
 */
import type { ServiceType } from "../Client/index.js"

export type UserCommand =
  | { readonly _tag: "Join"; readonly group: string }
  | { readonly _tag: "Leave"; readonly group: string }
  /** One line to one or more groups; asks for the service, then the line. */
  | { readonly _tag: "Send"; readonly groups: ReadonlyArray<string> }
  /** Several lines to one or more groups, ended by an empty line. */
  | { readonly _tag: "MultiLine"; readonly groups: ReadonlyArray<string> }
  /** A burst of numbered messages; asks for the count and the size. */
  | { readonly _tag: "Burst"; readonly group: string }
  | { readonly _tag: "Receive" }
  | { readonly _tag: "Poll" }
  | { readonly _tag: "EnableAsync" }
  | { readonly _tag: "DisableAsync" }
  | { readonly _tag: "Quit" }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Nothing" }
  /** A known letter used wrongly (a missing group), or an unknown letter. */
  | { readonly _tag: "Invalid"; readonly reason: string }

/**
 * Parses one typed line. The letter is the first non-blank character; group names follow,
 * separated by blanks.
 *
 * @example
 * ```ts
 * parseCommand("s chat news") // { _tag: "Send", groups: ["chat", "news"] }
 * parseCommand("j")           // { _tag: "Invalid", reason: "j needs a group name" }
 * ```
 */
export const parseCommand = (line: string): UserCommand => {
  const words = line.trim().split(/\s+/).filter((w) => w.length > 0)
  const [head, ...groups] = words
  if (head === undefined) return { _tag: "Nothing" }
  // The first letter decides, as in Spread's program: "join chat" is "j chat".
  const letter = head[0]!
  const one = (make: (group: string) => UserCommand): UserCommand =>
    groups[0] === undefined ? { _tag: "Invalid", reason: `${letter} needs a group name` } : make(groups[0])
  const many = (make: (groups: ReadonlyArray<string>) => UserCommand): UserCommand =>
    groups.length === 0 ? { _tag: "Invalid", reason: `${letter} needs at least one group name` } : make(groups)
  switch (letter) {
    case "j":
      return one((group) => ({ _tag: "Join", group }))
    case "l":
      return one((group) => ({ _tag: "Leave", group }))
    case "s":
      return many((groups) => ({ _tag: "Send", groups }))
    case "m":
      return many((groups) => ({ _tag: "MultiLine", groups }))
    case "b":
      return one((group) => ({ _tag: "Burst", group }))
    case "r":
      return { _tag: "Receive" }
    case "p":
      return { _tag: "Poll" }
    case "e":
      return { _tag: "EnableAsync" }
    case "d":
      return { _tag: "DisableAsync" }
    case "q":
      return { _tag: "Quit" }
    case "?":
    case "h":
      return { _tag: "Help" }
    default:
      return { _tag: "Invalid", reason: `unknown command ${JSON.stringify(letter)} (? for the menu)` }
  }
}

/** What `s` uses when the service question gets an empty answer: Spread's user sends SAFE. */
export const DEFAULT_SERVICE: ServiceType = "safe"

export const SERVICE_QUESTION = "service: u(nreliable) r(eliable) f(ifo) c(ausal) a(greed) s(afe) [s]: "

const SERVICE_LETTERS: Record<string, ServiceType> = {
  u: "unreliable",
  r: "reliable",
  f: "fifo",
  c: "causal",
  a: "agreed",
  s: "safe"
}

/**
 * The service named by an answer to {@link SERVICE_QUESTION}: empty for the default, a letter or
 * a full name (`"agreed"`, `"AGREED"`); undefined when it names none.
 */
export const parseService = (answer: string): ServiceType | undefined => {
  const a = answer.trim().toLowerCase()
  if (a === "") return DEFAULT_SERVICE
  return SERVICE_LETTERS[a] ?? Object.values(SERVICE_LETTERS).find((s) => s === a)
}

/** `mess_type` of the messages typed with `s` and `m`, and of a burst (as Spread's user program). */
export const TYPED_MESS_TYPE = 1
export const BURST_MESS_TYPE = 2

export const DEFAULT_BURST_COUNT = 10
export const DEFAULT_BURST_BYTES = 100
/** A burst larger than this is almost surely a typo; the daemon would queue all of it. */
export const MAX_BURST_COUNT = 100_000

/** A positive integer answer, the default when empty, or undefined when it is not one. */
export const parseCount = (answer: string, fallback: number, max: number): number | undefined => {
  const a = answer.trim()
  if (a === "") return fallback
  if (!/^\d+$/.test(a)) return undefined
  const n = Number(a)
  return n >= 1 && n <= max ? n : undefined
}

/**
 * The payload of message `i` of a burst of `bytes`-byte messages: its number, then filler, so a
 * receiver sees the order.
 */
export const burstPayload = (i: number, bytes: number): Buffer => {
  const buf = Buffer.alloc(bytes, 0x2e)
  buf.write(`burst message ${i} `.slice(0, bytes), 0, "latin1")
  return buf
}

/** The menu, for `spuser` (`threaded` false) or `sptuser`. */
export const menu = (threaded: boolean): string =>
  [
    "",
    "==========",
    threaded ? "sptuser commands:" : "spuser commands:",
    "----------",
    "",
    "\tj <group>            join a group",
    "\tl <group>            leave a group",
    "",
    "\ts <group> [group..]  send a line (asks for the service)",
    "\tm <group> [group..]  send several lines, up to an empty line",
    "\tb <group>            send a burst of numbered messages",
    "",
    ...(threaded
      ? ["\t(received messages print as soon as they arrive)"]
      : [
        "\tr                    receive a message (waits for one)",
        "\tp                    poll: how many messages wait",
        "\te                    print received messages as they arrive (default)",
        "\td                    keep received messages for r"
      ]),
    "",
    "\t? or h               this menu",
    "\tq                    quit",
    ""
  ].join("\n")
