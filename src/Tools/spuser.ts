#!/usr/bin/env node
/**
 * `spuser`: Spread's interactive user program. `spuser -u alice -s 4803`, then `j chat`,
 * `s chat`, `r`, `q` (`?` lists the commands). Reads a script from a pipe as well.
 */
// A launcher: Node's compile cache is turned on before the (large) Effect module graph loads,
// which cuts start-up by about a third from the second run on. Static imports would load first.
import { enableCompileCache } from "node:module"

enableCompileCache()
const { main } = await import("./UserCli.js")
main("spuser")
