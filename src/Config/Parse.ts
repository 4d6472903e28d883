import { buildConfig } from "./Build.js"
import type { SpreadConfig } from "./Model.js"
import { parseRawConfig } from "./Syntax.js"

/**
 * Reads the text of a `spread.conf`: Spread 5.0.1's language plus our own settings
 * (daemon-protocol §9.1), every default applied. Pure and synchronous; throws `ConfigError`
 * (`file:line:column: expected …, found …`). Name-only daemon entries keep `address: null`
 * until `resolveConfig` looks them up; `configWarnings` returns what the file says that we ignore.
 *
 * @example
 * const config = parseConfig("Spread_Segment 127.0.0.255:4803 {\n  node1 127.0.0.1\n}\n", "spread.conf")
 * config.daemons[0].id // 0x1d5c9b95
 */
export const parseConfig = (text: string, file: string): SpreadConfig => buildConfig(parseRawConfig(text, file))
