/**
 * What `spflooder` prints: a progress bar while it runs (on a terminal) and the report at the
 * end, as text or one JSON line. Pure, apart from the bar's writer.
 */
import type { FloodReport } from "./Flood.js"

const BAR_WIDTH = 30
/** Redrawing more often than this only costs time in the flood. */
const BAR_REDRAW_MILLIS = 100

/**
 * One frame of the progress bar (no newline; `\r` returns to the line start).
 *
 * @example
 * ```ts
 * progressBar(500, 1000) // "\r[###############...............]  50%  500/1000 messages"
 * ```
 */
export const progressBar = (done: number, total: number): string => {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total)
  const filled = Math.round(fraction * BAR_WIDTH)
  const percent = String(Math.floor(fraction * 100)).padStart(3)
  return `\r[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${percent}%  ${done}/${total} messages`
}

/** A progress callback drawing the bar on `out`, and `clear` to wipe it before the report. */
export const progressWriter = (out: NodeJS.WriteStream, total: number) => {
  let last = 0
  return {
    onProgress: (done: number): void => {
      const t = Date.now()
      if (t - last < BAR_REDRAW_MILLIS && done < total) return
      last = t
      out.write(progressBar(done, total))
    },
    clear: (): void => void out.write("\r\x1b[K")
  }
}

const fixed = (n: number, digits: number): string =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "-"

/** Messages lost, duplicated or out of order: the delivery faults the stamps revealed. */
export const deliveryFaults = (r: FloodReport): number => r.lost + r.duplicated + r.outOfOrder

/**
 * The report as lines of text.
 *
 * @example
 * ```ts
 * formatReport(report, { service: "agreed", groups: ["flooder"] }).join("\n")
 * ```
 */
export const formatReport = (
  r: FloodReport,
  context: { readonly service: string; readonly groups: ReadonlyArray<string> }
): ReadonlyArray<string> => {
  const what = r.mode === "send"
    ? `sent ${r.sent} messages`
    : r.mode === "receive"
    ? `received ${r.received} messages`
    : `sent ${r.sent} and received ${r.received} messages`
  const lines = [
    `${what} of ${r.bytes} bytes in ${fixed(r.seconds, 3)} s (${context.service.toUpperCase()} to ${context.groups.join(", ")})`,
    `  ${fixed(r.messagesPerSecond, 0)} messages/s, ${fixed(r.megabytesPerSecond, 2)} MB/s`
  ]
  if (r.latencyP50 !== undefined && r.latencyP99 !== undefined) {
    lines.push(`  latency p50 ${fixed(r.latencyP50, 3)} ms, p99 ${fixed(r.latencyP99, 3)} ms`)
  }
  if (r.mode !== "send") {
    lines.push(`  lost ${r.lost}, duplicated ${r.duplicated}, out of order ${r.outOfOrder}`)
  }
  return lines
}
