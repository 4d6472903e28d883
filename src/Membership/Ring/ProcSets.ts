/**
 * The membership sets of a gather (daemon-protocol §6.2, §6.4): `procSet` and `failSet` of
 * `(id, incarnation)` pairs, never two incarnations of one id in `procSet` (§6.4, §11.4).
 */
import type { ProcId } from "../../Protocol/Ring/JoinPacket.js"

export const procKey = (p: ProcId): string => `${p.id}:${p.incarnation}`

export class ProcSets {
  /** id → incarnation. */
  readonly proc = new Map<number, number>()
  /** procKey → pair. */
  readonly fail = new Map<string, ProcId>()
  /** Highest incarnation seen per id in any set: older pairs are dead (§11.4). */
  private readonly newest = new Map<number, number>()

  constructor(private readonly myId: number, private readonly rankOf: (id: number) => number) {}

  /** Adds a pair to `procSet`. A newer incarnation replaces an older one, which becomes failed. Returns true on change. */
  addProc(p: ProcId): boolean {
    this.noteIncarnation(p)
    const cur = this.proc.get(p.id)
    if (cur === p.incarnation) return false
    if (cur !== undefined && cur > p.incarnation) return this.addFail(p)
    if (cur !== undefined) this.addFail({ id: p.id, incarnation: cur })
    this.proc.set(p.id, p.incarnation)
    return true
  }

  /** Adds a pair to `failSet` (never myself). Returns true on change. */
  addFail(p: ProcId, myIncarnation?: number): boolean {
    if (p.id === this.myId && (myIncarnation === undefined || p.incarnation === myIncarnation)) return false
    const k = procKey(p)
    if (this.fail.has(k)) return false
    this.fail.set(k, p)
    return true
  }

  /** Records an incarnation; older incarnations of that id already in procSet become failed. */
  private noteIncarnation(p: ProcId): void {
    const n = this.newest.get(p.id) ?? 0
    if (p.incarnation > n) this.newest.set(p.id, p.incarnation)
  }

  isStale(p: ProcId): boolean {
    return (this.newest.get(p.id) ?? 0) > p.incarnation
  }

  isFailed(p: ProcId): boolean {
    return this.fail.has(procKey(p))
  }

  hasProc(p: ProcId): boolean {
    return this.proc.get(p.id) === p.incarnation
  }

  /** `procSet − failSet`, in rank order. */
  live(): Array<ProcId> {
    const out: Array<ProcId> = []
    for (const [id, incarnation] of this.proc) if (!this.fail.has(`${id}:${incarnation}`)) out.push({ id, incarnation })
    return out.sort((a, b) => this.rankOf(a.id) - this.rankOf(b.id))
  }

  procList(): Array<ProcId> {
    return [...this.proc].map(([id, incarnation]) => ({ id, incarnation })).sort((a, b) => this.rankOf(a.id) - this.rankOf(b.id) || a.incarnation - b.incarnation)
  }

  failList(): Array<ProcId> {
    return [...this.fail.values()].sort((a, b) => this.rankOf(a.id) - this.rankOf(b.id) || a.incarnation - b.incarnation)
  }

  /** A canonical text of both sets, for equality tests (§6.4 J2). */
  key(): string {
    return this.normalizedKey(this.procList(), this.failList())
  }

  /**
   * Canonical text of a pair of sets, leaving out failed pairs of an id of which I know a newer
   * incarnation. Decision: such pairs are certainly dead and never live, so two daemons that
   * learned of a restart in different orders must not disagree over them (§6.4 J2, R3 item 2).
   */
  normalizedKey(procSet: ReadonlyArray<ProcId>, failSet: ReadonlyArray<ProcId>): string {
    return setsKey(procSet, failSet.filter((p) => !this.isStale(p)))
  }

  /** Is the pair of sets contained in mine (after the same normalisation)? */
  contains(procSet: ReadonlyArray<ProcId>, failSet: ReadonlyArray<ProcId>): boolean {
    return procSet.every((p) => this.hasProc(p) || this.isFailed(p) || this.isStale(p)) &&
      failSet.every((p) => this.isFailed(p) || this.isStale(p))
  }

  /** An independent copy (the attempt's sets, R3 item 2). */
  snapshot(): ProcSets {
    const c = new ProcSets(this.myId, this.rankOf)
    for (const [id, inc] of this.proc) c.proc.set(id, inc)
    for (const [k, p] of this.fail) c.fail.set(k, p)
    for (const [id, inc] of this.newest) c.newest.set(id, inc)
    return c
  }

  clearFail(): void {
    this.fail.clear()
  }

  reset(procs: ReadonlyArray<ProcId>): void {
    this.proc.clear()
    for (const p of procs) this.addProc(p)
  }
}

export const setsKey = (procSet: ReadonlyArray<ProcId>, failSet: ReadonlyArray<ProcId>): string =>
  `${procSet.map(procKey).sort().join(",")}|${failSet.map(procKey).sort().join(",")}`
