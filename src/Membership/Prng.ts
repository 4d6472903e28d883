/**
 * A small deterministic PRNG (mulberry32). The core draws all its randomness from one, seeded by
 * `Init` (daemon-protocol §3), so a run replays exactly from its seed.
 */
export class Prng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A uniform integer in `[0, bound)`. */
  nextInt(bound: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000) * bound)
  }
}
