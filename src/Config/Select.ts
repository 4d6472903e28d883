import { sameAddress } from "./Address.js"
import { DaemonSelectionError } from "./ConfigError.js"
import { MAX_DAEMON_NAME } from "./Defaults.js"
import type { DaemonEntry, SpreadConfig } from "./Model.js"

/**
 * Which configured daemon this process is: the one named by `-n name`, else the one whose
 * address is an address of this machine, as Spread does (spread.c, `Conf_init` with or without
 * a name). Throws `DaemonSelectionError` when no daemon, or more than one, fits.
 *
 * @example
 * const addresses = Object.values(os.networkInterfaces()).flat().map((i) => i!.address)
 * const me = selectDaemon(config, { localAddresses: addresses })
 */
export const selectDaemon = (
  config: SpreadConfig,
  options: { readonly name?: string | undefined; readonly localAddresses: ReadonlyArray<string> }
): DaemonEntry => {
  const all = config.daemons.map((d) => d.name)
  if (options.name !== undefined) {
    // Spread keeps the first 19 characters of -n, as of every name in the file.
    const name = options.name.slice(0, MAX_DAEMON_NAME)
    const found = config.daemons.find((d) => d.name === name)
    if (found !== undefined) return found
    throw new DaemonSelectionError({
      reason: "NoSuchName",
      detail: `no daemon named "${name}" in the configuration (daemons: ${all.join(", ")})`,
      candidates: all
    })
  }
  const local = config.daemons.filter(
    (d) => d.address !== null && options.localAddresses.some((a) => sameAddress(a, d.address!))
  )
  if (local.length === 1) return local[0]!
  if (local.length === 0) {
    throw new DaemonSelectionError({
      reason: "NoLocalAddress",
      detail:
        `no configured daemon has an address of this machine (${options.localAddresses.join(", ") || "none"}); ` +
        `name one with -n (daemons: ${all.join(", ")})`,
      candidates: all
    })
  }
  const names = local.map((d) => d.name)
  throw new DaemonSelectionError({
    reason: "SeveralLocalAddresses",
    detail: `several configured daemons have an address of this machine (${names.join(", ")}); name one with -n`,
    candidates: names
  })
}
