#!/usr/bin/env node
/**
 * `spmonitor`: the daemons' status, flow control, partitions, reload and kill (daemon-protocol
 * §10). `spmonitor -c spread.conf` prints every daemon's status; `--help` lists the commands.
 */
// A launcher: Node's compile cache is turned on before the (large) Effect module graph loads,
// which cuts start-up by about a third from the second run on. Static imports would load first.
import { enableCompileCache } from "node:module"

enableCompileCache()
const { main } = await import("./MonitorCli.js")
main()
