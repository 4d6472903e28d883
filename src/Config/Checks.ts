/**
 * Checks across settings: timer coherence (daemon-protocol §9.4, §13 item 19), window order
 * (§5.9, §5.10) and the commit-token bound (§4.8.1, review finding R5). A violation is reported
 * at the offending setting that the file wrote last; defaults alone always pass.
 */
import { configError, type Position } from "./ConfigError.js"
import { MAX_DATAGRAM } from "./Defaults.js"
import type { Timeouts, Windows } from "./Model.js"
import type { RawSettings, SettingName } from "./Settings.js"

/** An effective number and the setting that can change it. */
interface Term {
  readonly setting: SettingName
  readonly value: number
}

const laterOf = (settings: RawSettings, a: SettingName, b: SettingName): { name: SettingName; at: Position } | null => {
  const pa = settings[a]?.at
  const pb = settings[b]?.at
  if (pa === undefined && pb === undefined) return null
  if (pb === undefined || (pa !== undefined && (pa.line > pb.line || (pa.line === pb.line && pa.column > pb.column)))) {
    return { name: a, at: pa! }
  }
  return { name: b, at: pb }
}

/**
 * Requires `factor × low.value < high.value` (or `≤` when not `strict`). `lowText` / `highText`
 * say the bound from each side, e.g. "below TokenTimeout / 4".
 */
const requireOrder = (
  file: string,
  settings: RawSettings,
  low: Term,
  high: Term,
  options: { readonly factor?: number; readonly strict?: boolean; readonly unit?: string }
): void => {
  const factor = options.factor ?? 1
  const strict = options.strict ?? true
  const unit = options.unit ?? " ms"
  const ok = strict ? factor * low.value < high.value : factor * low.value <= high.value
  if (ok) return
  const culprit = laterOf(settings, low.setting, high.setting)
  if (culprit === null) throw new Error(`defaults violate ${low.setting} < ${high.setting}`)
  const relation = strict ? "below" : "at most"
  const inverse = strict ? "above" : "at least"
  const expected =
    culprit.name === low.setting
      ? `${low.setting} ${relation} ${high.setting}${factor === 1 ? "" : ` / ${factor}`} (${high.value / factor}${unit})`
      : `${high.setting} ${inverse} ${factor === 1 ? "" : `${factor} × `}${low.setting} (${low.value * factor}${unit})`
  const found = culprit.name === low.setting ? low : high
  configError(file, culprit.at, expected, `${found.setting} = ${found.value}`)
}

/**
 * §9.4: `TokenHold + rotation < TokenLoss` (the rotation time is unknown at load, so we check
 * `TokenHold < TokenLoss`), `TokenRetransmit < TokenLoss / 4`, `Join < Consensus`, and the probe
 * back-off must start at or below its ceiling (§6.12).
 */
export const checkTimeouts = (file: string, settings: RawSettings, t: Timeouts): void => {
  const loss: Term = { setting: "TokenTimeout", value: t.tokenLoss }
  requireOrder(file, settings, { setting: "HurryTimeout", value: t.tokenHold }, loss, {})
  requireOrder(file, settings, { setting: "TokenRetransmitTimeout", value: t.tokenRetransmit }, loss, { factor: 4 })
  requireOrder(
    file,
    settings,
    { setting: "JoinTimeout", value: t.join },
    { setting: "GatherTimeout", value: t.consensus },
    {}
  )
  requireOrder(
    file,
    settings,
    { setting: "ProbeInterval", value: t.probeInterval },
    { setting: "LookupTimeout", value: t.probeMax },
    { strict: false }
  )
}

/** `PersonalWindow ≤ Window`, and with the accelerated ring `AcceleratedWindow ≤ PersonalWindow` (config_parse.y). */
export const checkWindows = (file: string, settings: RawSettings, w: Windows, acceleratedRing: boolean): void => {
  const personal: Term = { setting: "PersonalWindow", value: w.personalWindow }
  const order = { strict: false, unit: "" }
  requireOrder(file, settings, personal, { setting: "Window", value: w.window }, order)
  if (acceleratedRing) {
    requireOrder(file, settings, { setting: "AcceleratedWindow", value: w.acceleratedWindow }, personal, order)
  }
}

/**
 * Worst-case commit token in bytes (§4.8, §4.8.1): the common header (24) and fixed part (28);
 * per member 20 bytes plus the representative incarnation of its old ring (§6.10.1 fix 4); and,
 * worst, one section per daemon, each 36 bytes + 4 (incarnation) + 8 per daemon (a transitional
 * and a commit id) + a hole bitmap over `MaxSeqGap + 2 × Window` seqs.
 */
export const worstCommitTokenSize = (daemons: number, window: number, maxSeqGap: number): number => {
  const bitmap = Math.ceil((maxSeqGap + 2 * window) / 8)
  return 24 + 28 + daemons * (20 + 4) + daemons * (36 + 4 + 8 + bitmap)
}

/** §4.8.1: refuse a `MaxSeqGap`/`Window` pair whose worst commit token exceeds a datagram. */
export const checkCommitTokenBound = (
  file: string,
  settings: RawSettings,
  daemons: number,
  window: number,
  maxSeqGap: number
): void => {
  const size = worstCommitTokenSize(daemons, window, maxSeqGap)
  if (size <= MAX_DATAGRAM) return
  const culprit = laterOf(settings, "MaxSeqGap", "Window")
  if (culprit === null) throw new Error("defaults violate the commit token bound")
  const value = culprit.name === "Window" ? window : maxSeqGap
  configError(
    file,
    culprit.at,
    `MaxSeqGap + 2 × Window small enough for the commit token of ${daemons} daemon${daemons === 1 ? "" : "s"} to fit in ${MAX_DATAGRAM} bytes (it would take ${size})`,
    `${culprit.name} = ${value}`
  )
}
