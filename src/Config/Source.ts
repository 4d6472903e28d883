/**
 * Where a parsed configuration came from: its file, the place of each daemon entry and the
 * warnings. Kept beside the model rather than in it, so that a configuration printed and parsed
 * again equals the original (positions differ) while later steps (`resolveConfig`) can still
 * point at the line of a daemon whose name does not resolve.
 */
import type { ConfigWarning, Position } from "./ConfigError.js"
import type { SpreadConfig } from "./Model.js"

export interface ConfigSource {
  readonly file: string
  /** Daemon name → position of its entry. */
  readonly daemonAt: ReadonlyMap<string, Position>
  readonly warnings: ReadonlyArray<ConfigWarning>
}

const sources = new WeakMap<SpreadConfig, ConfigSource>()

export const withSource = (config: SpreadConfig, source: ConfigSource): SpreadConfig => {
  sources.set(config, source)
  return config
}

/** The source of a parsed configuration; a built one (`defaultConfig`) has an empty one. */
export const sourceOf = (config: SpreadConfig): ConfigSource =>
  sources.get(config) ?? { file: "(built-in configuration)", daemonAt: new Map(), warnings: [] }

/**
 * What the file says that the daemon ignores or changes; print them at start-up.
 *
 * @example
 * configWarnings(parseConfig("AliveTimeout = 300\nSpread_Segment 10.0.0.255 { a 10.0.0.1 }", "x.conf"))
 * // [{ file: "x.conf", line: 1, column: 1, text: "AliveTimeout is accepted and ignored: …" }]
 */
export const configWarnings = (config: SpreadConfig): ReadonlyArray<ConfigWarning> => sourceOf(config).warnings
