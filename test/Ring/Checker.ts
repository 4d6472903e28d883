/**
 * The ordering properties of evs-properties.md §2 that apply with a fixed membership, checked
 * over the simulator's logs: D1 basic delivery, D3 self-delivery, D6 total order, D7 safe
 * delivery (the global-view part is checked live by the simulator), D8 FIFO, and liveness
 * (every submitted message is delivered by every daemon once faults stop, L2 in spirit).
 */
import type { Ord } from "../../src/Membership/Ring/Types.js"
import { type LogEvent, type MsgKey, Sim, type Submitted } from "./Sim.js"

export interface Violation {
  readonly property: string
  readonly detail: string
}

const cmpOrd = (a: Ord, b: Ord): number => a.ringSeq - b.ringSeq || a.seq - b.seq || a.index - b.index
const ordKey = (o: Ord): string => `${o.ringSeq}/${o.seq}/${o.index}`
const isAgreed = (cls: string): boolean => cls === "ORDERED" || cls === "SAFE"

/** Checks a finished run. `maxReports` bounds the list (the first violations are the useful ones). */
export const checkRun = (sim: Sim, maxReports = 20): Array<Violation> => {
  const v: Array<Violation> = [...sim.live]
  const report = (property: string, detail: string) => {
    if (v.length < maxReports) v.push({ property, detail })
  }

  // Index sends (D1.1, D1.6).
  const sendOf = new Map<MsgKey, { daemon: string; e: Extract<LogEvent, { type: "send" }> }>()
  const ordOwner = new Map<string, MsgKey>()
  for (const [d, log] of sim.logs) {
    let current: string | undefined
    for (const e of log) {
      if (e.type === "install") current = `${e.configId.kind}:${e.configId.seq}:${e.configId.rep}`
      if (e.type !== "send") continue
      if (sendOf.has(e.key)) report("D1.1", `${e.key} sent twice`)
      const m = sim.submitted.get(e.key)
      if (m === undefined || m.origin !== d) report("D1.1", `${e.key} sent by ${d}, not its origin`)
      if (current !== `REG:${e.configId.seq}:${e.configId.rep}` || e.configId.kind !== "REG") report("D1.6", `${e.key} sent outside the current regular configuration`)
      sendOf.set(e.key, { daemon: d, e })
      const ok = ordKey(e.ord)
      if (ordOwner.has(ok)) report("D6.1", `ord ${ok} of ${e.key} also belongs to ${ordOwner.get(ok)}`)
      ordOwner.set(ok, e.key)
    }
  }

  for (const [d, log] of sim.logs) {
    const myId = Sim.parse(d).id
    const seen = new Set<MsgKey>()
    let current: Extract<LogEvent, { type: "install" }> | undefined
    let lastAgreed: Ord | undefined
    const lastFifo = new Map<string, number>()
    for (const e of log) {
      if (e.type === "install") {
        current = e
        if (!e.members.includes(myId)) report("D2.1", `${d} installed a configuration without itself`)
        continue
      }
      if (e.type !== "deliver") continue
      const m: Submitted | undefined = sim.submitted.get(e.key)
      const s = sendOf.get(e.key)
      // D1.2 no creation, no corruption.
      if (m === undefined || s === undefined) {
        report("D1.2", `${d} delivered ${e.key}, never sent`)
        continue
      }
      if (!m.envelope.equals(e.envelope)) report("D1.2", `${d} delivered a corrupted ${e.key}`)
      if (m.deliveryClass !== e.deliveryClass || m.originId !== e.originatorId) report("D1.2", `${d} delivered ${e.key} with other attributes`)
      if (cmpOrd(s.e.ord, e.ord) !== 0) report("D1.2", `${d} delivered ${e.key} at ord ${ordKey(e.ord)}, sent at ${ordKey(s.e.ord)}`)
      // D1.3 no duplication.
      if (seen.has(e.key)) report("D1.3", `${d} delivered ${e.key} twice`)
      seen.add(e.key)
      // D1.4 / D1.5: in the current configuration, the one it was sent in.
      const cur = current?.configId
      if (cur === undefined || cur.kind !== e.configId.kind || cur.seq !== e.configId.seq || cur.rep !== e.configId.rep) {
        report("D1.4", `${d} delivered ${e.key} in a configuration that is not current`)
      } else if (cur.seq !== s.e.configId.seq || cur.rep !== s.e.configId.rep) {
        report("D1.5", `${d} delivered ${e.key} in another configuration than its send`)
      }
      // D6.1 total order of the agreed classes (strict mode: ORDERED and SAFE).
      if (isAgreed(e.deliveryClass)) {
        if (lastAgreed !== undefined && cmpOrd(lastAgreed, e.ord) >= 0) {
          report("D6.1", `${d} delivered ${e.key} (ord ${ordKey(e.ord)}) after ord ${ordKey(lastAgreed)}`)
        }
        lastAgreed = e.ord
        // D8.1 FIFO per originator.
        const prev = lastFifo.get(m.origin)
        if (prev !== undefined && prev > m.index) report("D8.1", `${d} delivered ${e.key} after a later message of the same sender`)
        lastFifo.set(m.origin, Math.max(prev ?? -1, m.index))
      }
    }
  }

  // D6.2 no gaps (all in one regular configuration here): each daemon's agreed-class deliveries
  // are a prefix of the agreed-class messages in ord order.
  const agreedSent = [...sendOf.entries()]
    .filter(([k]) => isAgreed(sim.submitted.get(k)?.deliveryClass ?? ""))
    .sort((a, b) => cmpOrd(a[1].e.ord, b[1].e.ord))
    .map(([k]) => k)
  for (const [d, log] of sim.logs) {
    const got = log.filter((e): e is Extract<LogEvent, { type: "deliver" }> => e.type === "deliver" && isAgreed(e.deliveryClass)).map((e) => e.key)
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== agreedSent[i]) {
        report("D6.2", `${d}: agreed delivery #${i} is ${got[i]}, expected ${agreedSent[i]}`)
        break
      }
    }
  }

  // D3 self-delivery and liveness: everything submitted is sent and delivered everywhere.
  const deliveredAt = new Map<string, Set<MsgKey>>()
  for (const [d, log] of sim.logs) {
    deliveredAt.set(d, new Set(log.flatMap((e) => e.type === "deliver" ? [e.key] : [])))
  }
  for (const m of sim.submitted.values()) {
    if (!sendOf.has(m.key)) {
      report("liveness", `${m.key} never sent`)
      continue
    }
    for (const d of sim.logs.keys()) {
      if (!deliveredAt.get(d)!.has(m.key)) {
        report(d === m.origin ? "D3" : "liveness", `${d} never delivered ${m.key} (${m.deliveryClass})`)
      }
    }
  }
  return v
}
