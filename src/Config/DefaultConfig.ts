import { DEFAULT_PORT, MAX_DAEMON_NAME } from "./Defaults.js"
import type { SpreadConfig } from "./Model.js"
import { parseConfig } from "./Parse.js"
import { quoteIfNeeded } from "./Print.js"

/**
 * The configuration of a daemon started without a file: one segment on the loopback network,
 * one daemon on 127.0.0.1 named `name` (the caller passes the host name; it is cut to 19
 * characters, client-protocol §1), every other value a default. Throws `ConfigError` for a name
 * or port no file could hold either.
 *
 * @example
 * defaultConfig({ name: os.hostname(), port: 4803 })
 */
export const defaultConfig = (options: { readonly name: string; readonly port?: number }): SpreadConfig => {
  const name = quoteIfNeeded(options.name.slice(0, MAX_DAEMON_NAME))
  const port = options.port ?? DEFAULT_PORT
  return parseConfig(`Spread_Segment 127.0.0.255:${port} {\n    ${name} 127.0.0.1\n}\n`, "(built-in configuration)")
}
