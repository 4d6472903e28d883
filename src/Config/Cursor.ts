import { configError, type Position } from "./ConfigError.js"
import { displayToken, type Token, type TokenKind } from "./Lexer.js"

/** A value with the place it was written, for error messages about it later. */
export interface Located<A> {
  readonly value: A
  readonly at: Position
}

/** Reading position in a token list; every failure is a `ConfigError` at the offending token. */
export class Cursor {
  private index = 0
  constructor(
    private readonly tokens: ReadonlyArray<Token>,
    readonly file: string
  ) {}

  peek(ahead = 0): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!
  }

  next(): Token {
    const token = this.peek()
    if (token.kind !== "end") this.index++
    return token
  }

  /** Consumes a token of `kind`, or fails with "expected `expected`, found …". */
  take(kind: TokenKind, expected: string): Token {
    const token = this.peek()
    return token.kind === kind ? this.next() : this.fail(expected, token)
  }

  fail(expected: string, token: Token = this.peek()): never {
    return configError(this.file, token, expected, displayToken(token))
  }
}
