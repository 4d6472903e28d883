/**
 * `npm run sim -- --seeds N [--from F]` runs N seeds of the ring campaign from F (default 1);
 * `npm run sim -- --seed S` replays one seed. The campaign is test/Ring/campaign.sim.ts.
 */
import { spawnSync } from "node:child_process"

const args = process.argv.slice(2)
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag)
  return i < 0 ? undefined : args[i + 1]
}
const seed = value("--seed")
const env = {
  ...process.env,
  FROM: seed ?? value("--from") ?? "1",
  SEEDS: seed === undefined ? value("--seeds") ?? "100" : "1"
}
const r = spawnSync("npx", ["vitest", "run", "--config", "vitest.sim.config.ts"], { stdio: "inherit", env })
process.exit(r.status ?? 1)
