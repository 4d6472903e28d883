/**
 * Tokens of `spread.conf`, with positions. The shapes follow Spread's scanner
 * (config_gram.l): `#` comments to the end of the line, free white space, `{ } = ; !` as
 * punctuation, words, and strings in single or double quotes. Two deliberate differences:
 * `=` and `;` end a word (Spread needs white space around them, so every Spread file still
 * scans the same), and a quoted string must close on its own line.
 */
import { configError, type Position } from "./ConfigError.js"

export type TokenKind = "word" | "quoted" | "{" | "}" | "=" | ";" | "!" | "end"

export interface Token extends Position {
  readonly kind: TokenKind
  /** The value: a word, the inside of a quoted string, the punctuation character, or "". */
  readonly text: string
}

const PUNCTUATION = new Set(["{", "}", "=", ";", "!"])
const isSpace = (c: string): boolean => c === " " || c === "\t" || c === "\r" || c === "\n" || c === "\v" || c === "\f"
const endsWord = (c: string): boolean => isSpace(c) || c === "#" || c === "'" || c === '"' || c === "{" || c === "}" || c === "=" || c === ";"

/** How a token reads in an error message: `"10.0.0"`, `'a b'`, `end of file`. */
export const displayToken = (t: Token): string =>
  t.kind === "end" ? "end of file" : t.kind === "quoted" ? JSON.stringify(t.text) : `"${t.text}"`

/** Splits `text` into tokens; the last one is always `end`. Throws `ConfigError`. */
export const tokenize = (text: string, file: string): ReadonlyArray<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  let line = 1
  let lineStart = 0
  const here = (): Position => ({ line, column: i - lineStart + 1 })
  while (i < text.length) {
    const c = text[i]!
    if (c === "\n") {
      i++
      line++
      lineStart = i
    } else if (isSpace(c)) {
      i++
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: c as TokenKind, text: c, ...here() })
      i++
    } else if (c === '"' || c === "'") {
      const at = here()
      const close = text.indexOf(c, i + 1)
      const newline = text.indexOf("\n", i + 1)
      if (close < 0 || (newline >= 0 && newline < close)) {
        configError(file, at, `a closing ${c} on the same line`, newline < 0 ? "end of file" : "end of line")
      }
      tokens.push({ kind: "quoted", text: text.slice(i + 1, close), ...at })
      i = close + 1
    } else {
      const at = here()
      const start = i
      while (i < text.length && !endsWord(text[i]!)) i++
      tokens.push({ kind: "word", text: text.slice(start, i), ...at })
    }
  }
  tokens.push({ kind: "end", text: "", ...here() })
  return tokens
}
