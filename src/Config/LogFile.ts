/**
 * The `EventLogFile` name for this host: `%h` and `%H` become the host name, so one file can
 * serve every machine (Spread config_parse.y, `expand_filename`).
 *
 * @example
 * expandEventLogFile("/var/log/spread_%h.log", "machine1") // "/var/log/spread_machine1.log"
 */
export const expandEventLogFile = (pattern: string, hostName: string): string =>
  pattern.replace(/%[hH]/g, () => hostName)
