/**
 * One flooding process for `bench/run.ts`: `node bench/floodWorker.ts '<FloodOptions as JSON>'`
 * prints its FloodReport as one JSON line.
 */
import { Effect } from "effect"
import { setFlagsFromString } from "node:v8"
import { flood, type FloodOptions } from "../dist/Tools/Flood.js"

// As spflooder (src/Tools/spflooder.ts): 1 MiB buffer slabs for the encoded messages, and
// external memory counted in V8's global heap limit.
Buffer.poolSize = 1024 * 1024
setFlagsFromString("--external-memory-accounted-in-global-limit")
const options = JSON.parse(process.argv[2] ?? "{}") as FloodOptions
const report = await Effect.runPromise(flood(options))
console.log(JSON.stringify(report))
