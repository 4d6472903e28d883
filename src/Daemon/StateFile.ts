/**
 * What a daemon must remember across restarts (daemon-protocol §2.2, §6.10.1 R1 fix 1): its last
 * incarnation and the highest ring seq it asked to persist, in `<RuntimeDir>/spread-<name>.state`
 * (JSON). Written with write-then-rename after fsync, so a crash leaves the old or the new file,
 * never half of one.
 *
 * Without a usable `RuntimeDir` the daemon falls back to the wall clock (§6.10.1 fixes 2 and 3)
 * and says so in its log.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs"
import { join } from "node:path"

export interface PersistedState {
  readonly incarnation: number
  readonly ringSeq: number
}

export class StateFile {
  private state: PersistedState

  private constructor(private readonly path: string, previous: PersistedState, readonly firstStart: boolean) {
    this.state = previous
  }

  /**
   * Opens (creating the directory and file if needed) and starts a new incarnation above the
   * previous one and above `clockIncarnation`. Throws if the directory cannot be written.
   */
  static open(runtimeDir: string, daemonName: string, clockIncarnation: number): StateFile {
    mkdirSync(runtimeDir, { recursive: true })
    const path = join(runtimeDir, `spread-${daemonName}.state`)
    const previous = readState(path)
    const file = new StateFile(path, previous ?? { incarnation: 0, ringSeq: 0 }, previous === undefined)
    file.write({ incarnation: Math.max(file.state.incarnation + 1, clockIncarnation), ringSeq: file.state.ringSeq })
    return file
  }

  get incarnation(): number {
    return this.state.incarnation
  }

  get ringSeq(): number {
    return this.state.ringSeq
  }

  /** `PersistRingSeq`: durable before the caller goes on (R1 fix 1). */
  persistRingSeq(seq: number): void {
    if (seq > this.state.ringSeq) this.write({ ...this.state, ringSeq: seq })
  }

  private write(state: PersistedState): void {
    const temporary = `${this.path}.tmp`
    const fd = openSync(temporary, "w", 0o644)
    try {
      writeSync(fd, JSON.stringify(state))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, this.path)
    this.state = state
  }
}

/** The previous state; undefined for a missing or unreadable file (a first start). */
const readState = (path: string): PersistedState | undefined => {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<PersistedState>
    const incarnation = Number(parsed.incarnation)
    const ringSeq = Number(parsed.ringSeq)
    if (Number.isSafeInteger(incarnation) && incarnation >= 0 && Number.isSafeInteger(ringSeq) && ringSeq >= 0) {
      return { incarnation, ringSeq }
    }
  } catch {
    // First start, or a file we cannot read: start from the clock.
  }
  return undefined
}
