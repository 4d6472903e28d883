/**
 * Configuration ids (daemon-protocol §2.3): a regular ring id `(seq, rep)` with `seq` even, or a
 * transitional id `(ringSeq − 1, repT)`. Clients see one inside group ids as
 * `(proc_id, time) = (rep, seq mod 2^32 as int32)` (§2.3, §8.4).
 */
export interface ConfigurationId {
  readonly kind: "REG" | "TRANS"
  /** < 2^53 (daemon-protocol §0). */
  readonly seq: number
  readonly rep: number
}

export const sameConfigurationId = (a: ConfigurationId, b: ConfigurationId): boolean =>
  a.kind === b.kind && a.seq === b.seq && a.rep === b.rep

/** The client-visible `memb_time` word: `seq mod 2^32` read as int32. */
export const membTime = (id: ConfigurationId): number => (id.seq % 0x1_0000_0000) | 0

/** The smallest even ring seq above `floor` (§6.10: a new ring's seq is even and larger). */
export const nextRingSeq = (floor: number): number => Math.floor(floor / 2) * 2 + 2
