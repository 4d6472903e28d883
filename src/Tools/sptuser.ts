#!/usr/bin/env node
/**
 * `sptuser`: `spuser` whose received messages print as soon as they arrive, even while a line
 * is being typed (Spread's threaded user program).
 */
// A launcher: Node's compile cache is turned on before the (large) Effect module graph loads,
// which cuts start-up by about a third from the second run on. Static imports would load first.
import { enableCompileCache } from "node:module"

enableCompileCache()
const { main } = await import("./UserCli.js")
main("sptuser")
