#!/usr/bin/env node
/**
 * `spflooder`: floods a group through one daemon and measures it. `spflooder -m 100000 -b 100`
 * sends and receives its own messages; `-ro` and `-wo` split receiver and senders.
 */
// A launcher: Node's compile cache is turned on before the (large) Effect module graph loads,
// which cuts start-up by about a third from the second run on. Static imports would load first.
import { enableCompileCache } from "node:module"
import { setFlagsFromString } from "node:v8"

enableCompileCache()
// As the daemon (see src/Daemon/main.ts): socket buffers outside V8's heap would otherwise start
// a mark-compact every 64 MiB; a 10 KB flood runs about a third faster without them.
setFlagsFromString("--external-memory-accounted-in-global-limit")
// Each encoded message is an allocation of its size: with Node's default 8 KiB pool, every
// message of 4 KiB or more gets an ArrayBuffer of its own; 1 MiB slabs keep a flood of large
// messages from being paced by the garbage collector.
Buffer.poolSize = 1024 * 1024
const { main } = await import("./FlooderCli.js")
main()
