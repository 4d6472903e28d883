/**
 * The configuration hash (daemon-protocol §9.3): equal on every daemon that has the same
 * segments, daemons, order and hashed limits, different otherwise. Daemons with different
 * hashes drop each other's packets and so never share a ring (§4.1, §11.6).
 */
import { createHash } from "node:crypto"
import { withoutScope } from "./Address.js"
import { DAEMON_PROTOCOL_VERSION } from "./Defaults.js"
import type { SpreadConfig } from "./Model.js"

/**
 * The canonical text the hash covers: protocol version, `AcceleratedRing`, `MaxPacketSize`,
 * `MaxMessageSize`, `MaxSeqGap`, then per segment its port and (unless `ExcludeSegAddrsFromHash`)
 * its addresses, and per daemon its name, address and id. Addresses are canonical and without
 * `%scope` (node-local), like Spread's `SPU_ADDR_NTOP_CANON` in config_parse.y.
 * Every daemon must have its address (`resolveConfig`).
 */
export const canonicalConfigText = (config: SpreadConfig): string => {
  const lines = [
    `version ${DAEMON_PROTOCOL_VERSION}`,
    `AcceleratedRing ${config.acceleratedRing}`,
    `MaxPacketSize ${config.limits.maxPacketSize}`,
    `MaxMessageSize ${config.limits.maxMessageSize}`,
    `MaxSeqGap ${config.limits.maxSeqGap}`
  ]
  for (const segment of config.segments) {
    const addresses = config.excludeSegAddrsFromHash ? "" : segment.addresses.map((a) => ` [${withoutScope(a)}]`).join("")
    lines.push(`segment port ${segment.port}${addresses}`)
    for (const d of segment.daemons) {
      if (d.address === null) throw new Error(`configHash: daemon "${d.name}" has no address; resolve the configuration first`)
      lines.push(`daemon ${JSON.stringify(d.name)} [${withoutScope(d.address)}] ${d.id}`)
    }
  }
  return lines.join("\n") + "\n"
}

/**
 * First 4 bytes, little-endian, of SHA-256 over `canonicalConfigText` (§9.3).
 *
 * @example
 * configHash(parseConfig(text, "spread.conf")).toString(16)
 */
export const configHash = (config: SpreadConfig): number =>
  createHash("sha256").update(canonicalConfigText(config), "utf8").digest().readUInt32LE(0)
