#!/usr/bin/env node
/**
 * `spflooder`: floods a group through one daemon and measures it. `spflooder -m 100000 -b 100`
 * sends and receives its own messages; `-ro` and `-wo` split receiver and senders.
 */
// A launcher: Node's compile cache is turned on before the (large) Effect module graph loads,
// which cuts start-up by about a third from the second run on. Static imports would load first.
import { enableCompileCache } from "node:module"

enableCompileCache()
// Each encoded message is an allocation of its size: with Node's default 8 KiB pool, every
// message of 4 KiB or more gets an ArrayBuffer of its own; 1 MiB slabs keep a flood of large
// messages from being paced by the garbage collector.
Buffer.poolSize = 1024 * 1024
const { main } = await import("./FlooderCli.js")
main()
