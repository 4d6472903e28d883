/**
 * `spread.conf`: the configuration language of Spread 5.0.1 plus our settings
 * (daemon-protocol §9), parsed into a Schema-described model with every default applied.
 *
 * @example
 * import { Effect } from "effect"
 * import { configHash, describeConfig, loadConfig, selectDaemon } from "./Config/index.js"
 *
 * const program = Effect.gen(function*() {
 *   const config = yield* loadConfig("spread.conf")          // read, parse, resolve names
 *   const me = selectDaemon(config, { name: "node1", localAddresses: [] })
 *   yield* Effect.log(describeConfig(config), me.id, configHash(config))
 * })
 */
export * from "./Address.js"
export { checkDaemonInterfaces } from "./Build.js"
export { worstCommitTokenSize } from "./Checks.js"
export * from "./ConfigError.js"
export * from "./DaemonId.js"
export * from "./DefaultConfig.js"
export * from "./Defaults.js"
export * from "./Describe.js"
export * from "./Hash.js"
export * from "./LogFile.js"
export * from "./Model.js"
export * from "./Parse.js"
export * from "./Print.js"
export * from "./Resolve.js"
export * from "./Select.js"
export { SETTING_NAMES } from "./Settings.js"
export { configWarnings } from "./Source.js"
