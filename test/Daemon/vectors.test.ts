/**
 * Our daemon replays every single-daemon golden vector (test/fixtures/README.md, "Our
 * daemon"): each connection's client bytes are written in order, and what comes back must equal
 * the bytes the real Spread 5.0.1 daemon sent, outside the documented varying ranges, which are
 * compared by meaning (group ids by label, invented names by form).
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, it } from "vitest"
import { fixtureFiles, loadFixture } from "../Protocol/vectors.ts"
import { type RunningDaemon, startDaemon } from "../support/daemon.ts"
import { RawClient } from "../support/rawClient.ts"
import { replay } from "../support/replay.ts"

const singleDaemonFiles = fixtureFiles.filter((f) => !f.startsWith("40"))

describe("the daemon replays the Spread 5.0.1 golden vectors", () => {
  let daemon: RunningDaemon
  beforeAll(async () => {
    // Every single-daemon vector was captured with the same spread.conf; ours reads it as it is,
    // except that its RuntimeDir (where our daemon keeps its state) goes to a temporary directory.
    const runtimeDir = mkdtempSync(join(tmpdir(), "spread-run-"))
    const config = loadFixture(singleDaemonFiles[0]!).spread_conf.replace(/^RuntimeDir = .*$/m, `RuntimeDir = ${runtimeDir}`)
    daemon = await startDaemon({ name: "node1", config })
  })
  afterAll(async () => {
    await daemon.stop()
  })

  for (const file of singleDaemonFiles) {
    it(file, async () => {
      await replay(loadFixture(file), {
        connect: (_conn, c) => RawClient.connect(c.transport === "unix" ? { path: daemon.unixPath } : { port: daemon.port })
      })
    })
  }
})
