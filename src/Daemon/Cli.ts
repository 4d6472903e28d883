/**
 * The daemon's command line, with Spread's flags (`-n name`, `-c spread.conf`) and ours
 * (`-p port`, `--log-level`, `--check-config`). Pure: argv in, typed flags or a UsageError out.
 */
import type * as LogLevel from "effect/LogLevel"
import { UsageError } from "./Errors.js"

export interface DaemonFlags {
  readonly port: number | undefined
  readonly name: string | undefined
  readonly configFile: string | undefined
  readonly logLevel: LogLevel.LogLevel
  readonly checkConfig: boolean
  readonly help: boolean
  /** `--test-drop-rate`: fault injection for tests only (a fraction of received datagrams dropped). */
  readonly dropRate: number
}

export const USAGE = `usage: spread [-p port] [-n name] [-c spread.conf] [--log-level level] [--check-config]

  -p port          port of every daemon (clients: TCP and /tmp/<port>; ring: UDP port and
                   port + 1); default 4803 or the configuration's
  -n name          this daemon's name in the configuration; default the host name
  -c file          a Spread configuration file; default: one daemon on 127.0.0.1
  --log-level lvl  Error, Warn, Info (default) or Debug
  --check-config   print the parsed configuration and exit (non-zero if it is broken)
  --test-drop-rate f
                   FOR TESTS ONLY: drop this fraction (0 to 1) of received ring datagrams
  -h, --help       this text`

const LEVELS: ReadonlyArray<LogLevel.LogLevel> = ["Error", "Warn", "Info", "Debug"]

export const parseFlags = (argv: ReadonlyArray<string>): DaemonFlags => {
  let port: number | undefined
  let name: string | undefined
  let configFile: string | undefined
  let logLevel: LogLevel.LogLevel = "Info"
  let checkConfig = false
  let help = false
  let dropRate = 0
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const value = (): string => {
      const v = argv[++i]
      if (v === undefined) throw new UsageError({ reason: `${flag} needs a value\n${USAGE}` })
      return v
    }
    switch (flag) {
      case "-p": {
        const text = value()
        port = Number(text)
        if (!/^[0-9]+$/.test(text) || port < 1 || port > 65534) {
          throw new UsageError({ reason: `-p: "${text}" is not a port from 1 to 65534 (the ring also uses port + 1)` })
        }
        break
      }
      case "-n":
        name = value()
        break
      case "-c":
        configFile = value()
        break
      case "-l":
      case "--log-level": {
        const text = value()
        const level = LEVELS.find((l) => l.toLowerCase() === text.toLowerCase())
        if (level === undefined) throw new UsageError({ reason: `${flag}: "${text}" is not one of ${LEVELS.join(", ")}` })
        logLevel = level
        break
      }
      case "--test-drop-rate": {
        const text = value()
        dropRate = Number(text)
        if (text.trim() === "" || !(dropRate >= 0 && dropRate <= 1)) {
          throw new UsageError({ reason: `--test-drop-rate: "${text}" is not a number from 0 to 1` })
        }
        break
      }
      case "--check-config":
        checkConfig = true
        break
      case "-h":
      case "--help":
        help = true
        break
      default:
        throw new UsageError({ reason: `unknown argument "${flag}"\n${USAGE}` })
    }
  }
  return { port, name, configFile, logLevel, checkConfig, help, dropRate }
}
