import * as Schema from "effect/Schema"

/** A place in a configuration file: 1-based line and column (columns count characters). */
export interface Position {
  readonly line: number
  readonly column: number
}

/**
 * A configuration file that cannot be used, with where and why, so that a person can fix it:
 * `spread.conf:12:9: expected an IPv4 or IPv6 address after "node3", found "10.0.0"`.
 * `found` is already in display form (a quoted token, `end of file`, `TokenTimeout = 400`).
 * Line and column are 0 when the problem is the file as a whole (it cannot be read).
 */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  file: Schema.String,
  line: Schema.Int,
  column: Schema.Int,
  found: Schema.String,
  expected: Schema.String
}) {
  override get message(): string {
    const where = this.line > 0 ? `${this.file}:${this.line}:${this.column}` : this.file
    return `${where}: expected ${this.expected}, found ${this.found}`
  }
}

/** Throws a `ConfigError` at `at`; the parser's only way out. */
export const configError = (file: string, at: Position, expected: string, found: string): never => {
  throw new ConfigError({ file, line: at.line, column: at.column, found, expected })
}

/**
 * Something a valid file says that the daemon ignores or changes (a Spread-only timeout, a
 * name cut to 19 characters, a setting given twice). Printed by `--check-config` and at start-up.
 */
export interface ConfigWarning {
  readonly file: string
  readonly line: number
  readonly column: number
  readonly text: string
}

export const formatWarning = (w: ConfigWarning): string => `${w.file}:${w.line}:${w.column}: warning: ${w.text}`

/**
 * No configured daemon, or more than one, fits `-n name` or this machine's addresses
 * (`selectDaemon`). `candidates` lists the daemons that matched, or all daemons when none did.
 */
export class DaemonSelectionError extends Schema.TaggedError<DaemonSelectionError>()("DaemonSelectionError", {
  reason: Schema.Literals(["NoSuchName", "NoLocalAddress", "SeveralLocalAddresses"]),
  detail: Schema.String,
  candidates: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return this.detail
  }
}
