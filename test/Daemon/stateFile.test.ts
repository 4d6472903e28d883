/**
 * The state a daemon keeps in `RuntimeDir` (daemon-protocol §2.2, §6.10.1 R1 fix 1): every start
 * a larger incarnation, ring seqs durable across restarts, a damaged file taken as a first start.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { StateFile } from "../../src/Daemon/StateFile.ts"

const fresh = () => join(mkdtempSync(join(tmpdir(), "spread-state-")), "run")

describe("StateFile", () => {
  it("gives every start a larger incarnation, also within one clock second", () => {
    const dir = fresh()
    const a = StateFile.open(dir, "n1", 1000)
    const b = StateFile.open(dir, "n1", 1000)
    const c = StateFile.open(dir, "n1", 900)
    expect(a.firstStart).toBe(true)
    expect([a.incarnation, b.incarnation, c.incarnation]).toEqual([1000, 1001, 1002])
    expect(b.firstStart).toBe(false)
  })

  it("keeps the highest ring seq asked to persist across a restart", () => {
    const dir = fresh()
    const a = StateFile.open(dir, "n1", 5)
    a.persistRingSeq(1_795_000_000_010)
    a.persistRingSeq(1_795_000_000_004) // lower: ignored
    expect(StateFile.open(dir, "n1", 5).ringSeq).toBe(1_795_000_000_010)
    expect(JSON.parse(readFileSync(join(dir, "spread-n1.state"), "utf8")).ringSeq).toBe(1_795_000_000_010)
  })

  it("takes a damaged file as a first start, and daemons of one directory apart by name", () => {
    const dir = fresh()
    StateFile.open(dir, "n1", 7)
    writeFileSync(join(dir, "spread-n1.state"), "{not json")
    const again = StateFile.open(dir, "n1", 7)
    expect(again.firstStart).toBe(true)
    expect(StateFile.open(dir, "n2", 3).incarnation).toBe(3)
  })
})
