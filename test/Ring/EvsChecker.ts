/**
 * The daemon-level EVS checker of evs-properties.md §2 (strict mode) over the simulator's
 * per-process logs, for runs with membership changes: D1.1–D1.6, D2.1–D2.7, D3, D4/D4.1,
 * D6.1–D6.4, D7.1–D7.2, D8.1, plus the end-of-drain liveness of §3 in the form that applies to
 * a finished run (D5 causal order included; L1: the live processes end in one regular configuration with all of them;
 * every message of a process that never crashed is delivered by it).
 */
import type { ConfigurationId, Ord } from "../../src/Membership/Ring/Types.js"
import type { Violation } from "./Checker.js"
import { type LogEvent, type MsgKey, type ProcKey, Sim } from "./Sim.js"

type Install = Extract<LogEvent, { type: "install" }>
type Send = Extract<LogEvent, { type: "send" }>

const cid = (c: ConfigurationId): string => `${c.kind[0]}:${c.seq}:${c.rep}`
const cmpOrd = (a: Ord, b: Ord): number => a.ringSeq - b.ringSeq || a.seq - b.seq || a.index - b.index
const ordKey = (o: Ord): string => `${o.ringSeq}/${o.seq}/${o.index}`
const isAgreed = (cls: string): boolean => cls === "ORDERED" || cls === "SAFE"

interface ProcView {
  readonly key: ProcKey
  readonly log: ReadonlyArray<LogEvent>
  readonly crashed: boolean
  /** Installs in order, with log positions. */
  readonly installs: ReadonlyArray<{ readonly e: Install; readonly ix: number }>
  /** Configuration id → set of message keys delivered in it. */
  readonly del: Map<string, Set<MsgKey>>
  /** Message key → (configuration id, log position) of its delivery. */
  readonly deliveredIn: Map<MsgKey, { readonly c: string; readonly ix: number }>
}

export interface EvsCheckOptions {
  /**
   * D5: does delivering a RELIABLE-class message make it a cause of what the receiver sends
   * next? evs-properties.md does not say. With early reliable delivery (§5.2 step 7) the answer
   * "yes" is violated by the design itself: a daemon may deliver reliable x (sent after m by m's
   * sender) without holding m, send m′, and be cut off; m is then a hole of its transitional
   * configuration while m′ (its own, so from its commit set) is delivered — the §6.8 argument
   * "a hole cannot precede a message of a commit-set member that depends on it" assumes that a
   * dependency implies holding. Default false (reliable deliveries carry no causality); the test
   * `reliable-causality gap` keeps a seed that shows the violation with `true`.
   */
  readonly reliableCarriesCausality?: boolean
}

export const checkEvs = (sim: Sim, maxReports = 30, options: EvsCheckOptions = {}): Array<Violation> => {
  const v: Array<Violation> = [...sim.live]
  const report = (property: string, detail: string) => {
    if (v.length < maxReports) v.push({ property, detail })
  }
  const rankOf = (id: number) => sim.config.daemons.findIndex((d) => d.id === id)

  // --- views per process
  const views = new Map<ProcKey, ProcView>()
  for (const [key, log] of sim.logs) {
    const installs: Array<{ e: Install; ix: number }> = []
    const del = new Map<string, Set<MsgKey>>()
    const deliveredIn = new Map<MsgKey, { c: string; ix: number }>()
    log.forEach((e, ix) => {
      if (e.type === "install") installs.push({ e, ix })
      if (e.type === "deliver") {
        const c = cid(e.configId)
        if (!del.has(c)) del.set(c, new Set())
        del.get(c)!.add(e.key)
        if (!deliveredIn.has(e.key)) deliveredIn.set(e.key, { c, ix })
      }
    })
    views.set(key, { key, log, crashed: log.some((e) => e.type === "crash"), installs, del, deliveredIn })
  }

  // --- D2.7: one start per process (logs are per start and keyed by process: check monotone incarnations)
  const incs = new Map<number, Array<number>>()
  for (const key of sim.logs.keys()) {
    const { id, incarnation } = Sim.parse(key)
    if (!incs.has(id)) incs.set(id, [])
    incs.get(id)!.push(incarnation)
  }
  for (const [id, list] of incs) {
    for (let i = 1; i < list.length; i++) if (list[i]! <= list[i - 1]!) report("D2.7", `daemon ${id} incarnations not increasing: ${list}`)
  }

  // --- sends (D1.1, D1.6) and ord uniqueness (D6.1)
  const sendOf = new Map<MsgKey, { p: ProcKey; e: Send }>()
  const ordOwner = new Map<string, MsgKey>()
  for (const view of views.values()) {
    let cur: Install | undefined
    for (const e of view.log) {
      if (e.type === "install") cur = e
      if (e.type !== "send") continue
      if (sendOf.has(e.key)) report("D1.1", `${e.key} sent twice`)
      const m = sim.submitted.get(e.key)
      if (m === undefined || m.origin !== view.key) report("D1.1", `${e.key} sent by ${view.key}, not by its origin`)
      if (cur === undefined || cur.configId.kind !== "REG" || cid(cur.configId) !== cid(e.configId)) {
        report("D1.6", `${view.key} sent ${e.key} in ${cid(e.configId)}, current ${cur ? cid(cur.configId) : "none"}`)
      }
      sendOf.set(e.key, { p: view.key, e })
      // Decision: ord is unique per ring id (seq, rep), not per seq alone: two partitions may
      // form rings with the same seq and different representatives (§2.3).
      const ok = `${cid(e.configId)}/${ordKey(e.ord)}`
      if (ordOwner.has(ok)) report("D6.1", `ord ${ok} of ${e.key} also belongs to ${ordOwner.get(ok)}`)
      ordOwner.set(ok, e.key)
    }
  }

  // --- installs: D2.1–D2.5
  const configMembers = new Map<string, string>()
  for (const view of views.values()) {
    const me = view.key
    const { id: myId } = Sim.parse(me)
    let prevKind: string | undefined
    let lastRegSeq = -1
    for (let i = 0; i < view.installs.length; i++) {
      const { e } = view.installs[i]!
      const c = cid(e.configId)
      if (!e.procs.includes(me)) report("D2.1", `${me} installed ${c} without itself`)
      const members = [...e.procs].sort().join(",")
      const prior = configMembers.get(c)
      if (prior !== undefined && prior !== members) report("D2.2", `${c} installed with members ${members} and ${prior}`)
      configMembers.set(c, members)
      if ((e.configId.kind === "REG") !== (e.configId.seq % 2 === 0)) report("D2.2", `${c}: parity of the seq does not match the kind`)
      // D2.3 shape REG (TRANS REG)*
      if (i === 0 && e.configId.kind !== "REG") report("D2.3", `${me}: first install is ${c}`)
      if (prevKind === e.configId.kind) report("D2.3", `${me}: two ${e.configId.kind} installs in a row (${c})`)
      prevKind = e.configId.kind
      if (e.configId.kind === "REG") {
        if (e.configId.seq <= lastRegSeq) report("D2.4", `${me}: regular seq ${e.configId.seq} after ${lastRegSeq}`)
        lastRegSeq = e.configId.seq
      } else {
        // D2.5: R1, T, R2.
        const r1 = view.installs[i - 1]?.e
        const r2 = view.installs[i + 1]?.e
        if (r1 !== undefined && !e.procs.every((p) => r1.procs.includes(p))) report("D2.5", `${me}: ${c} ⊄ ${cid(r1.configId)}`)
        if (r2 !== undefined) {
          if (!e.procs.every((p) => r2.procs.includes(p))) report("D2.5", `${me}: ${c} ⊄ ${cid(r2.configId)}`)
          if (e.configId.seq !== r2.configId.seq - 1) report("D2.5", `${me}: ${c} seq ≠ ${cid(r2.configId)} seq − 1`)
        }
        const lowest = [...e.members].sort((a, b) => rankOf(a) - rankOf(b))[0]
        if (e.configId.rep !== lowest) report("D2.5", `${me}: ${c} rep is not its lowest-rank member`)
      }
      void myId
    }
  }

  // --- D2.6 transitional agreement
  const byReg = new Map<string, Array<{ p: ProcKey; prevReg: string | undefined; trans: string | undefined; transProcs: ReadonlyArray<ProcKey> }>>()
  for (const view of views.values()) {
    let prevReg: string | undefined
    let trans: Install | undefined
    for (const { e } of view.installs) {
      if (e.configId.kind === "TRANS") {
        trans = e
        continue
      }
      const c = cid(e.configId)
      if (!byReg.has(c)) byReg.set(c, [])
      byReg.get(c)!.push({ p: view.key, prevReg, trans: trans ? cid(trans.configId) : undefined, transProcs: trans?.procs ?? [] })
      prevReg = c
      trans = undefined
    }
  }
  for (const [r2, xs] of byReg) {
    const groups = new Map<string, typeof xs>()
    for (const x of xs) {
      const k = x.prevReg ?? "none"
      if (!groups.has(k)) groups.set(k, [])
      groups.get(k)!.push(x)
    }
    for (const [r1, g] of groups) {
      if (r1 === "none") continue
      const ts = new Set(g.map((x) => x.trans))
      if (ts.size > 1) report("D2.6", `${r1} → ${r2}: different transitional configurations ${[...ts].join(" ")}`)
      for (const x of g) {
        const t = x.transProcs
        for (const y of xs) {
          const inT = t.includes(y.p)
          if (inT !== (y.prevReg === r1)) report("D2.6", `${r1} → ${r2} at ${x.p}: ${y.p} ${inT ? "in" : "not in"} T but came from ${y.prevReg}`)
        }
      }
    }
  }

  // --- deliveries: D1.2–D1.5, D6.1, D8.1, and the data for D6.2/6.3, D7
  for (const view of views.values()) {
    const seen = new Set<MsgKey>()
    let cur: Install | undefined
    let prevRegOfCur: Install | undefined
    let lastReg: Install | undefined
    let lastAgreed: Ord | undefined
    const lastFifo = new Map<ProcKey, number>()
    for (const e of view.log) {
      if (e.type === "install") {
        if (e.configId.kind === "REG") lastReg = e
        prevRegOfCur = e.configId.kind === "TRANS" ? lastReg : undefined
        cur = e
        continue
      }
      if (e.type !== "deliver") continue
      const m = sim.submitted.get(e.key)
      const s = sendOf.get(e.key)
      if (m === undefined || s === undefined) {
        report("D1.2", `${view.key} delivered ${e.key}, never sent`)
        continue
      }
      if (!m.envelope.equals(e.envelope)) report("D1.2", `${view.key} delivered a corrupted ${e.key}`)
      if (m.deliveryClass !== e.deliveryClass || m.originId !== e.originatorId) report("D1.2", `${view.key} delivered ${e.key} with other attributes`)
      if (cmpOrd(s.e.ord, e.ord) !== 0) report("D1.2", `${view.key} delivered ${e.key} at ord ${ordKey(e.ord)}, sent at ${ordKey(s.e.ord)}`)
      if (seen.has(e.key)) report("D1.3", `${view.key} delivered ${e.key} twice`)
      seen.add(e.key)
      if (cur === undefined || cid(cur.configId) !== cid(e.configId) || !cur.procs.includes(view.key)) {
        report("D1.4", `${view.key} delivered ${e.key} in ${cid(e.configId)}, current ${cur ? cid(cur.configId) : "none"}`)
      } else {
        const sc = cid(s.e.configId)
        const okConf = cid(e.configId) === sc || (e.configId.kind === "TRANS" && prevRegOfCur !== undefined && cid(prevRegOfCur.configId) === sc)
        if (!okConf) report("D1.5", `${view.key} delivered ${e.key} (sent in ${sc}) in ${cid(e.configId)}`)
      }
      if (isAgreed(e.deliveryClass)) {
        if (lastAgreed !== undefined && cmpOrd(lastAgreed, e.ord) >= 0) {
          report("D6.1", `${view.key} delivered ${e.key} (ord ${ordKey(e.ord)}) after ord ${ordKey(lastAgreed)}`)
        }
        lastAgreed = e.ord
        const prev = lastFifo.get(m.origin)
        if (prev !== undefined && prev > m.index) report("D8.1", `${view.key} delivered ${e.key} after a later message of ${m.origin}`)
        lastFifo.set(m.origin, Math.max(prev ?? -1, m.index))
      }
    }
  }

  // Agreed messages per sending configuration, in ord order.
  const agreedIn = new Map<string, Array<{ key: MsgKey; ord: Ord; origin: ProcKey }>>()
  for (const [key, s] of sendOf) {
    const m = sim.submitted.get(key)
    if (m === undefined || !isAgreed(m.deliveryClass)) continue
    const c = cid(s.e.configId)
    if (!agreedIn.has(c)) agreedIn.set(c, [])
    agreedIn.get(c)!.push({ key, ord: s.e.ord, origin: s.p })
  }
  for (const list of agreedIn.values()) list.sort((a, b) => cmpOrd(a.ord, b.ord))

  for (const view of views.values()) {
    const { installs } = view
    for (let i = 0; i < installs.length; i++) {
      const { e: c, ix } = installs[i]!
      if (c.configId.kind !== "REG") continue
      const sent = agreedIn.get(cid(c.configId)) ?? []
      const next = installs[i + 1]
      const trans = next !== undefined && next.e.configId.kind === "TRANS" ? next.e : undefined
      const endIx = installs[i + (trans ? 2 : 1)]?.ix ?? view.log.length
      // D6.2 (in c) and D6.3 (in T): no gaps.
      for (let j = ix; j < endIx; j++) {
        const d = view.log[j]!
        if (d.type !== "deliver" || !isAgreed(d.deliveryClass)) continue
        const inTrans = d.configId.kind === "TRANS"
        for (const m of sent) {
          if (cmpOrd(m.ord, d.ord) >= 0) break
          if (inTrans && !trans!.procs.includes(m.origin)) continue
          const at = view.deliveredIn.get(m.key)
          if (at === undefined || at.ix > j) {
            report(inTrans ? "D6.3" : "D6.2", `${view.key} delivered ${d.key} in ${cid(d.configId)} without ${m.key} before it`)
            break
          }
        }
      }
      // D3 (own messages), D6.4 (messages of T's members) and, in the final configuration,
      // every message sent in it: delivered in c or in its transitional configuration,
      // unless p crashed before the next regular configuration.
      const hasNextReg = installs[i + (trans ? 2 : 1)] !== undefined
      if (!hasNextReg && view.crashed) continue
      const isFinal = !hasNextReg && trans === undefined
      for (const [key, s] of sendOf) {
        if (cid(s.e.configId) !== cid(c.configId)) continue
        const required = s.p === view.key || (trans?.procs.includes(s.p) ?? false) || isFinal
        if (!required) continue
        const at = view.deliveredIn.get(key)
        const ok = at !== undefined && (at.c === cid(c.configId) || (trans !== undefined && at.c === cid(trans.configId)))
        if (!ok) {
          const prop = s.p === view.key ? "D3" : isFinal ? "L2" : "D6.4"
          report(prop, `${view.key} did not deliver ${key} (sent in ${cid(c.configId)} by ${s.p}) in it or its transitional configuration`)
        }
      }
    }
  }

  // --- D5 causal delivery (strict mode): m → m′ if send(m) or deliver(m) precedes send(m′) in
  // some log, transitively; only pairs sent in the same regular configuration are checked.
  {
    const merged: Array<{ t: number; p: ProcKey; ix: number; e: LogEvent }> = []
    for (const view of views.values()) view.log.forEach((e, ix) => merged.push({ t: e.t, p: view.key, ix, e }))
    merged.sort((a, b) => a.t - b.t || (a.p === b.p ? a.ix - b.ix : 0))
    const deps = new Map<MsgKey, Set<MsgKey>>()
    const seen = new Map<ProcKey, Set<MsgKey>>()
    const delivered = new Map<ProcKey, Set<MsgKey>>()
    for (const { p, e } of merged) {
      if (!seen.has(p)) (seen.set(p, new Set()), delivered.set(p, new Set()))
      const mine = seen.get(p)!
      if (e.type === "install" && e.configId.kind === "REG") mine.clear()
      else if (e.type === "send") {
        deps.set(e.key, new Set(mine))
        mine.add(e.key)
      } else if (e.type === "deliver") {
        const d = deps.get(e.key)
        const done = delivered.get(p)!
        if (d !== undefined && isAgreed(e.deliveryClass)) {
          for (const m of d) {
            if (!done.has(m)) {
              report("D5", `${p} delivered ${e.key} before its cause ${m}`)
              break
            }
          }
        }
        done.add(e.key)
        if (e.configId.kind === "REG" && (isAgreed(e.deliveryClass) || options.reliableCarriesCausality === true)) {
          mine.add(e.key)
          if (d !== undefined) for (const m of d) mine.add(m)
        }
      }
    }
  }

  // --- D4 failure atomicity (strict: reliable messages included)
  const pairs = new Map<string, Array<ProcView>>()
  for (const view of views.values()) {
    for (let i = 0; i + 1 < view.installs.length; i++) {
      const k = `${cid(view.installs[i]!.e.configId)} → ${cid(view.installs[i + 1]!.e.configId)}`
      if (!pairs.has(k)) pairs.set(k, [])
      pairs.get(k)!.push(view)
    }
  }
  for (const [k, ps] of pairs) {
    const c = k.split(" → ")[0]!
    const ref = [...(ps[0]!.del.get(c) ?? [])].sort().join(",")
    for (const p of ps.slice(1)) {
      const mine = [...(p.del.get(c) ?? [])].sort().join(",")
      if (mine !== ref) report("D4", `${k}: ${ps[0]!.key} and ${p.key} delivered different sets in ${c}`)
    }
  }

  // --- D7 safe delivery
  for (const view of views.values()) {
    for (const e of view.log) {
      if (e.type !== "deliver" || e.deliveryClass !== "SAFE") continue
      const conf = view.installs.find((x) => cid(x.e.configId) === cid(e.configId))?.e
      if (conf === undefined) continue
      const idx = view.installs.findIndex((x) => x.e === conf)
      for (const q of conf.procs) {
        const qv = views.get(q)
        if (qv === undefined || qv.crashed) continue
        if (conf.configId.kind === "REG") {
          const at = qv.deliveredIn.get(e.key)
          const qi = qv.installs.findIndex((x) => cid(x.e.configId) === cid(conf.configId))
          const qt = qv.installs[qi + 1]?.e
          const ok = at !== undefined && (at.c === cid(conf.configId) || (qt?.configId.kind === "TRANS" && at.c === cid(qt.configId)))
          if (!ok) report("D7.1", `${view.key} delivered SAFE ${e.key} in ${cid(conf.configId)}; member ${q} did not`)
        } else if (!qv.deliveredIn.has(e.key)) {
          report("D7.2", `${view.key} delivered SAFE ${e.key} in ${cid(conf.configId)}; member ${q} never did`)
        }
      }
      void idx
    }
  }

  // --- liveness at the end of the drain
  const liveViews = [...views.values()].filter((x) => !x.crashed)
  const finals = new Set(liveViews.map((x) => {
    const last = x.installs[x.installs.length - 1]?.e
    return last === undefined ? "none" : `${cid(last.configId)} ${[...last.procs].sort().join(",")}`
  }))
  const everyone = liveViews.map((x) => x.key).sort().join(",")
  if (finals.size !== 1 || ![...finals][0]!.endsWith(everyone)) report("L1", `live processes end in ${[...finals].join(" | ")}`)
  for (const m of sim.submitted.values()) {
    const origin = views.get(m.origin)
    if (origin === undefined || origin.crashed) continue
    if (!origin.deliveredIn.has(m.key)) report("L2", `${m.origin} never delivered its own ${m.key} (${m.deliveryClass})${sendOf.has(m.key) ? "" : ", never sent"}`)
  }
  return v
}
