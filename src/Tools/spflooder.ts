#!/usr/bin/env node
/**
 * `spflooder`: floods a group through one daemon and measures it. `spflooder -m 100000 -b 100`
 * sends and receives its own messages; `-ro` and `-wo` split receiver and senders.
 */
// A launcher: Node's compile cache is turned on before the (large) Effect module graph loads,
// which cuts start-up by about a third from the second run on. Static imports would load first.
import { enableCompileCache } from "node:module"

enableCompileCache()
const { main } = await import("./FlooderCli.js")
main()
