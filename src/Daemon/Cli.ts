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
}

export const USAGE = `usage: spread [-p port] [-n name] [-c spread.conf] [--log-level level] [--check-config]

  -p port          client port (TCP and /tmp/<port>); default 4803 or the configuration's
  -n name          this daemon's name in the configuration; default the host name
  -c file          a Spread configuration file; default: one daemon on 127.0.0.1
  --log-level lvl  Error, Warn, Info (default) or Debug
  --check-config   print the parsed configuration and exit (non-zero if it is broken)
  -h, --help       this text`

const LEVELS: ReadonlyArray<LogLevel.LogLevel> = ["Error", "Warn", "Info", "Debug"]

export const parseFlags = (argv: ReadonlyArray<string>): DaemonFlags => {
  let port: number | undefined
  let name: string | undefined
  let configFile: string | undefined
  let logLevel: LogLevel.LogLevel = "Info"
  let checkConfig = false
  let help = false
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
  return { port, name, configFile, logLevel, checkConfig, help }
}
