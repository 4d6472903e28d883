/**
 * Daemon ids derived from daemon names (daemon-protocol §2.1), the same as a Spread 5.0.1
 * daemon's, so that client-visible group ids keep the C daemon's form (client-protocol §6.7).
 */

/**
 * Bob Jenkins' one-at-a-time hash as Spread's `stdhcode_oaat` computes it: the state starts at
 * the key length (not 0), then the usual add / shift-10 / xor-shift-6 per byte and the final
 * avalanche. All arithmetic is u32.
 */
export const oneAtATimeHash = (key: Uint8Array): number => {
  let h = key.length >>> 0
  for (const byte of key) {
    h = (h + byte) >>> 0
    h = (h + (h << 10)) >>> 0
    h = (h ^ (h >>> 6)) >>> 0
  }
  h = (h + (h << 3)) >>> 0
  h = (h ^ (h >>> 11)) >>> 0
  return (h + (h << 15)) >>> 0
}

/**
 * The default id of a daemon: the hash of its name including the terminating NUL. 0 ("none" on
 * our wire) and 0xFFFFFFFF are reserved; a name that hashes to either gets `(length + 1) << 16`
 * instead, or `1 << 16` if that is 0 too. cf. Spread configuration.c, `Conf_str_to_id`.
 *
 * @example
 * daemonIdFromName("node1") // 0x1d5c9b95
 */
export const daemonIdFromName = (name: string): number => {
  const key = Buffer.concat([Buffer.from(name, "latin1"), Buffer.of(0)])
  return remapReservedId(oneAtATimeHash(key), key.length)
}

/** `Conf_str_to_id`'s remapping of the reserved ids, given the hash and the key length (NUL included). */
export const remapReservedId = (hash: number, keyLength: number): number => {
  if (hash !== 0 && hash !== 0xffff_ffff) return hash
  const byLength = (keyLength << 16) >>> 0
  return byLength === 0 ? 1 << 16 : byLength
}
