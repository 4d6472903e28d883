/**
 * A checker of the client-level group properties of evs-properties.md §4 (G1–G10, G12–G15) over
 * per-client event logs (§1.3), and {@link ClientRecorder}, which builds such a log from what a
 * client does and the daemon messages it receives (`decodeDaemonMessage` results).
 *
 * ```ts
 * const rec = new ClientRecorder({ id: "#alice#n1/1", privateGroup: "#alice#n1", daemon: "n1#1", membership: true })
 * rec.connect()
 * rec.reqJoin("chat")
 * const { payload } = rec.csend(["chat"], AGREED_MESS, 7, body)   // the message id travels in the payload
 * rec.received(decodeDaemonMessage(bytes, "#alice#n1"))           // for every message the daemon sends
 * const violations = checkGroups({ clients: [rec.log, …] })
 * ```
 *
 * Cross-log order. Every event may carry `gseq`, a global sequence number (the simulator has one:
 * one counter for every client event and daemon install). When some event lacks it (real
 * multi-process runs, where only per-client order is known), the checks that need cross-log order
 * are skipped: G3 (c) time bound, G5 (b), G6 NETWORK, and the "before" parts of G6.
 *
 * Decisions (where evs-properties §4 leaves room):
 * - A client's *membership period* of g starts with the first view of g after it was not a member
 *   and ends with its `selfLeave(g)` or its end. `prevView` (G4, G5, G8) is the previous view in
 *   the same period: a client that left and rejoins g has no previous view, as G4 says of joiners.
 * - G3 (a) ("index strictly increases within one membership id") is checked per client over its
 *   whole log, across leaves and rejoins (the re-creation rule of daemon-protocol §8.4).
 * - G4: the partition rule applies to NETWORK views; JOIN/LEAVE/DISCONNECT views have exactly one
 *   one-member vs_set (the subject), which is not a partition of `members`.
 * - G8 and G13 exempt RELIABLE-class messages in both modes, as the spec says; G9 is checked on
 *   FIFO-or-stronger messages; G10 and G13 use the agreed classes of the mode (strict: FIFO,
 *   CAUSAL, AGREED, SAFE; EVS: AGREED, SAFE).
 * - The second halves of G9 (no gap) and G12 (other targets do receive) need the daemons'
 *   delivery events and are not checked here; the simulator checks them for its final messages
 *   (G16, test/Ring/GroupSim.ts).
 * - G15 counts a non-membership client as a member of g at a send if its last request about g
 *   before the send was `reqJoin(g)` and the message is FIFO or stronger (then the join is
 *   applied first at its daemon); a RELIABLE message may be delivered before the join, so it is
 *   counted only through a membership view.
 */
import {
  AGREED_MESS,
  CAUSAL_MESS,
  type DaemonMessage,
  FIFO_MESS,
  type MembershipCause,
  RELIABLE_MESS,
  SAFE_MESS,
  SELF_DISCARD,
  UNRELIABLE_MESS
} from "../../src/Protocol/index.ts"

// ---------------------------------------------------------------------------------------------
// Logs (evs-properties §1.3)

export type Service = "UNRELIABLE" | "RELIABLE" | "FIFO" | "CAUSAL" | "AGREED" | "SAFE"

export interface Gid {
  readonly procId: number
  readonly time: number
  readonly index: number
}

/** Every event may carry simulated time and the global sequence number. */
interface Stamp {
  readonly gseq?: number
  readonly t?: number
}

export interface MessageFields {
  /** Message id, embedded in the payload by {@link ClientRecorder.csend}. */
  readonly id: string
  readonly groups: ReadonlyArray<string>
  readonly service: Service
  readonly selfDiscard: boolean
  readonly messType: number
  /** Hash of the whole payload. */
  readonly digest: number
}

export type ClientEvent = Stamp & (
  | { readonly type: "connect" }
  /** Voluntary end (a requested disconnect or the client closing its socket). */
  | { readonly type: "disconnect" }
  /** End imposed from outside: the daemon killed the session, or the daemon crashed. */
  | { readonly type: "killed"; readonly reason?: string }
  | { readonly type: "reqJoin"; readonly group: string }
  | { readonly type: "reqLeave"; readonly group: string }
  | ({ readonly type: "csend" } & MessageFields)
  | ({ readonly type: "recv"; readonly sender: string } & MessageFields)
  | {
    readonly type: "view"
    readonly group: string
    readonly gid: Gid
    readonly members: ReadonlyArray<string>
    readonly vsSets: ReadonlyArray<ReadonlyArray<string>>
    readonly local: number
    readonly cause: MembershipCause
  }
  | { readonly type: "trans"; readonly group: string; readonly gid: Gid }
  | { readonly type: "selfLeave"; readonly group: string }
)

export interface ClientLog {
  /** The client process (evs-properties §1.1): private group and connection serial, e.g. `#a#n1/2`. */
  readonly id: string
  readonly privateGroup: string
  /** Its daemon process, as named in {@link DaemonInstall.members}. */
  readonly daemon: string
  /** Asked for membership messages (client-protocol §8.3). */
  readonly membership: boolean
  readonly events: ReadonlyArray<ClientEvent>
}

/** A daemon's `install(c)` (evs-properties §1.2), members as daemon processes. */
export interface DaemonInstall extends Stamp {
  readonly kind: "REG" | "TRANS"
  readonly seq: number
  readonly rep: number
  readonly members: ReadonlyArray<string>
}

export interface GroupRun {
  readonly clients: ReadonlyArray<ClientLog>
  /** Per daemon process, its installs in order (enables G3 (c), G5 (b), G6 NETWORK). */
  readonly installs?: ReadonlyMap<string, ReadonlyArray<DaemonInstall>>
  /**
   * The end of the drain: the client processes that were still connected, with their daemon up,
   * when the run ended (enables G15, and the "both none" case of G13).
   */
  readonly endOfRun?: { readonly clientsUp: ReadonlySet<string> }
}

export interface GroupCheckOptions {
  /** "strict" (CI, default): every ordered class is totally ordered. "evs": only AGREED and SAFE. */
  readonly mode?: "strict" | "evs"
  /** Bound on the report list (the first violations are the useful ones); default 50. */
  readonly maxReports?: number
}

export interface GroupViolation {
  /** evs-properties §4 id (G1…G15), or LOG for a malformed log. */
  readonly property: string
  readonly detail: string
  readonly clients?: ReadonlyArray<string>
  readonly group?: string
  readonly gid?: string
  readonly message?: string
  /** `client@index` log positions. */
  readonly positions?: ReadonlyArray<string>
  /** The global sequence number of the offending event, when known (for trace excerpts). */
  readonly gseq?: number
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export const gidKey = (g: Gid): string => `${g.procId}.${g.time}.${g.index}`
const sameGid = (a: Gid, b: Gid): boolean => a.procId === b.procId && a.time === b.time && a.index === b.index

/** FNV-1a, 32 bits: the digest of a payload. */
export const digestOf = (bytes: Uint8Array): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
  return h >>> 0
}

/** The service named by a client's service word (the strongest bit set). */
export const serviceOf = (serviceType: number): Service =>
  (serviceType & SAFE_MESS) !== 0
    ? "SAFE"
    : (serviceType & AGREED_MESS) !== 0
    ? "AGREED"
    : (serviceType & CAUSAL_MESS) !== 0
    ? "CAUSAL"
    : (serviceType & FIFO_MESS) !== 0
    ? "FIFO"
    : (serviceType & RELIABLE_MESS) !== 0
    ? "RELIABLE"
    : "UNRELIABLE"

export const SERVICE_BITS: Readonly<Record<Service, number>> = {
  UNRELIABLE: UNRELIABLE_MESS,
  RELIABLE: RELIABLE_MESS,
  FIFO: FIFO_MESS,
  CAUSAL: CAUSAL_MESS,
  AGREED: AGREED_MESS,
  SAFE: SAFE_MESS
}

/** evs-properties §1.4: class RELIABLE. */
const isReliableClass = (s: Service): boolean => s === "UNRELIABLE" || s === "RELIABLE"
const isFifoOrStronger = (s: Service): boolean => !isReliableClass(s)

// ---------------------------------------------------------------------------------------------
// Recorder

/** Payload layout of recorded messages: magic, id length, id, then the body. */
const PAYLOAD_MAGIC = 0x4743 // "GC"

export const encodeTestPayload = (id: string, body: Uint8Array = new Uint8Array(0)): Buffer => {
  const idBytes = Buffer.from(id, "latin1")
  if (idBytes.length > 255) throw new RangeError(`message id ${id} is too long`)
  const buf = Buffer.allocUnsafe(3 + idBytes.length + body.length)
  buf.writeUInt16BE(PAYLOAD_MAGIC, 0)
  buf[2] = idBytes.length
  idBytes.copy(buf, 3)
  buf.set(body, 3 + idBytes.length)
  return buf
}

/** The message id a payload carries, or undefined if it was not made by {@link encodeTestPayload}. */
export const payloadId = (payload: Uint8Array): string | undefined => {
  if (payload.length < 3 || ((payload[0]! << 8) | payload[1]!) !== PAYLOAD_MAGIC) return undefined
  const n = payload[2]!
  if (payload.length < 3 + n) return undefined
  return Buffer.from(payload.buffer, payload.byteOffset + 3, n).toString("latin1")
}

export interface ClientRecorderInit {
  readonly id: string
  readonly privateGroup: string
  readonly daemon: string
  readonly membership: boolean
  /** Stamps each event (the simulator's clock and global counter). */
  readonly stamp?: () => Stamp
}

/**
 * Turns a client's own actions and the daemon messages it receives into a {@link ClientLog}.
 * After `disconnect`/`killed` it records nothing more (the client has closed its socket).
 */
export class ClientRecorder {
  private readonly events: Array<ClientEvent> = []
  readonly log: ClientLog
  private counter = 0
  private endedAt: number | undefined

  constructor(private readonly init: ClientRecorderInit) {
    this.log = { id: init.id, privateGroup: init.privateGroup, daemon: init.daemon, membership: init.membership, events: this.events }
  }

  get ended(): boolean {
    return this.endedAt !== undefined
  }

  private push(e: ClientEvent): void {
    if (this.endedAt !== undefined) return
    const s = this.init.stamp?.()
    this.events.push(s === undefined ? e : { ...s, ...e })
  }

  connect(): void {
    this.push({ type: "connect" })
  }
  reqJoin(group: string): void {
    this.push({ type: "reqJoin", group })
  }
  reqLeave(group: string): void {
    this.push({ type: "reqLeave", group })
  }
  disconnect(): void {
    this.push({ type: "disconnect" })
    this.endedAt ??= this.events.length
  }
  killed(reason?: string): void {
    this.push(reason === undefined ? { type: "killed" } : { type: "killed", reason })
    this.endedAt ??= this.events.length
  }

  /**
   * Records `csend` and returns the payload to send: the message id (`<log id>:<counter>`) then
   * `body`. `serviceType` is the client's service word (one service bit, maybe `SELF_DISCARD`).
   */
  csend(groups: ReadonlyArray<string>, serviceType: number, messType: number, body?: Uint8Array): { readonly id: string; readonly payload: Buffer } {
    const id = `${this.init.id}:${++this.counter}`
    const payload = encodeTestPayload(id, body)
    this.push({
      type: "csend", id, groups: [...groups], service: serviceOf(serviceType),
      selfDiscard: (serviceType & SELF_DISCARD) !== 0, messType, digest: digestOf(payload)
    })
    return { id, payload }
  }

  /** One message from the daemon, as `decodeDaemonMessage` returned it. */
  received(m: DaemonMessage): void {
    switch (m._tag) {
      case "Data":
        return this.push({
          type: "recv",
          id: payloadId(m.data) ?? `?${digestOf(m.data).toString(16)}`,
          sender: m.sender,
          groups: [...m.groups],
          service: serviceOf(m.serviceType),
          selfDiscard: (m.serviceType & SELF_DISCARD) !== 0,
          messType: m.messType,
          digest: digestOf(m.data)
        })
      case "Membership":
        return this.push({
          type: "view", group: m.group, gid: m.groupId, members: [...m.members],
          vsSets: m.vsSets.map((s) => [...s]), local: m.localVsSetIndex, cause: m.cause
        })
      case "Transition":
        return this.push({ type: "trans", group: m.group, gid: m.groupId })
      case "SelfLeave":
        return this.push({ type: "selfLeave", group: m.group })
      case "Reject":
        // Our daemon never rejects (client-protocol §6.6); a reject shows as a received message
        // with an id nobody sent, which G14 reports.
        return this.push({
          type: "recv", id: `?reject:${digestOf(m.data).toString(16)}`, sender: m.sender, groups: [...m.groups],
          service: serviceOf(m.serviceType), selfDiscard: false, messType: m.messType, digest: digestOf(m.data)
        })
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checker

type ViewEvent = Extract<ClientEvent, { type: "view" }>
type RecvEvent = Extract<ClientEvent, { type: "recv" }>
type CsendEvent = Extract<ClientEvent, { type: "csend" }>

interface ViewInfo {
  readonly c: ClientInfo
  readonly ix: number
  readonly e: ViewEvent
  /** The previous view of the same membership period. */
  readonly prev: ViewInfo | undefined
  /** The next view of the same membership period. */
  next: ViewInfo | undefined
  /** Index of the vs_set holding the client, −1 if none. */
  readonly setIx: number
  /** Data messages addressed to g received since `prev` (or the period's start). */
  readonly recvBefore: ReadonlyArray<RecvEvent>
}

interface ClientInfo {
  readonly log: ClientLog
  readonly key: string
  readonly views: Array<ViewInfo>
  /** Index of the disconnect/killed event. */
  endIx: number | undefined
  /** Per recv index, per destination group with a current view: that view and whether a trans(g) came since. */
  readonly recvViews: Map<number, Map<string, { readonly view: ViewInfo; readonly afterTrans: boolean }>>
}

const pos = (c: ClientInfo, ix: number): string => `${c.log.id}@${ix}`

export const checkGroups = (run: GroupRun, options: GroupCheckOptions = {}): Array<GroupViolation> => {
  const max = options.maxReports ?? 50
  const strict = options.mode !== "evs"
  const out: Array<GroupViolation> = []
  const report = (v: GroupViolation): void => {
    if (out.length < max) out.push(v)
  }
  const agreedClass = (s: Service): boolean => strict ? isFifoOrStronger(s) : s === "AGREED" || s === "SAFE"

  const installs = run.installs
  const ordered = run.clients.every((c) => c.events.every((e) => e.gseq !== undefined)) &&
    (installs === undefined || [...installs.values()].every((l) => l.every((i) => i.gseq !== undefined)))

  // --- per-client replay: views, membership periods, G2, G3 (a, b), G4, G6 (own log), G7 (a), LOG
  const infos: Array<ClientInfo> = []
  const byPrivate = new Map<string, Array<ClientInfo>>()
  for (const log of run.clients) {
    const info: ClientInfo = { log, key: log.id, views: [], endIx: undefined, recvViews: new Map() }
    infos.push(info)
    if (!byPrivate.has(log.privateGroup)) byPrivate.set(log.privateGroup, [])
    byPrivate.get(log.privateGroup)!.push(info)
    replayClient(info, report)
  }

  // --- message index (G14 needs every client's csend)
  const csendOf = new Map<string, { readonly c: ClientInfo; readonly ix: number; readonly e: CsendEvent }>()
  for (const c of infos) {
    c.log.events.forEach((e, ix) => {
      if (e.type !== "csend") return
      if (csendOf.has(e.id)) report({ property: "G14", detail: `message id ${e.id} sent twice`, message: e.id, positions: [pos(c, ix)] })
      else csendOf.set(e.id, { c, ix, e })
    })
  }

  // --- views by (g, gid)
  const viewsByKey = new Map<string, Array<ViewInfo>>()
  for (const c of infos) {
    for (const v of c.views) {
      const k = `${v.e.group}|${gidKey(v.e.gid)}`
      if (!viewsByKey.has(k)) viewsByKey.set(k, [])
      viewsByKey.get(k)!.push(v)
    }
  }

  // G1 view agreement
  for (const [k, vs] of viewsByKey) {
    const first = vs[0]!
    const members = JSON.stringify(first.e.members)
    const sets = JSON.stringify(first.e.vsSets)
    for (const v of vs.slice(1)) {
      const what = JSON.stringify(v.e.members) !== members
        ? `members ${JSON.stringify(v.e.members)} vs ${members}`
        : JSON.stringify(v.e.vsSets) !== sets
        ? `vs_sets ${JSON.stringify(v.e.vsSets)} vs ${sets}`
        : v.e.cause !== first.e.cause
        ? `cause ${v.e.cause} vs ${first.e.cause}`
        : undefined
      if (what !== undefined) {
        report({
          property: "G1", detail: `view ${k} differs: ${what}`, group: v.e.group, gid: gidKey(v.e.gid),
          clients: [first.c.key, v.c.key], positions: [pos(first.c, first.ix), pos(v.c, v.ix)], ...gseqOf(v.e)
        })
        break
      }
    }
  }

  // G3 (c) group ids come from installed configurations
  if (installs !== undefined) {
    const firstInstall = new Map<string, number>()
    for (const list of installs.values()) {
      for (const i of list) {
        const k = `${i.rep | 0}.${(i.seq % 0x1_0000_0000) | 0}`
        firstInstall.set(k, Math.min(firstInstall.get(k) ?? Infinity, i.gseq ?? -Infinity))
      }
    }
    for (const vs of viewsByKey.values()) {
      const v = vs[0]!
      const k = `${v.e.gid.procId}.${v.e.gid.time}`
      const at = firstInstall.get(k)
      const early = ordered && at !== undefined && vs.some((x) => x.e.gseq! < at)
      if (at === undefined || early) {
        report({
          property: "G3", detail: `view ${v.e.group} ${gidKey(v.e.gid)}: (procId, time) is not a configuration installed ${early ? "before it" : "by any daemon"}`,
          group: v.e.group, gid: gidKey(v.e.gid), clients: [v.c.key], positions: [pos(v.c, v.ix)], ...gseqOf(v.e)
        })
      }
    }
  }

  // Installs by daemon process, for G5 (b) and G6 NETWORK.
  const installsBetween = (daemon: string, from: number, to: number, kind: "REG" | "TRANS"): Array<DaemonInstall> =>
    (installs?.get(daemon) ?? []).filter((i) => i.kind === kind && i.gseq! > from && i.gseq! < to)
  const startGseq = (c: ClientInfo): number => c.log.events[0]?.gseq ?? -Infinity

  // G4 (the receiver-independent part is in replayClient), G5, G8: per NETWORK view
  for (const vs of viewsByKey.values()) {
    const v0 = vs[0]!
    if (v0.e.cause !== "network") continue
    const g = v0.e.group
    // G5, client-only part: one vs_set ⇒ same defined previous gid; no previous view ⇒ alone.
    const bySet = new Map<number, Array<ViewInfo>>()
    for (const v of vs) {
      if (v.setIx < 0) continue
      if (!bySet.has(v.setIx)) bySet.set(v.setIx, [])
      bySet.get(v.setIx)!.push(v)
      if (v.prev === undefined && v.e.vsSets[v.setIx]!.length !== 1) {
        report({
          property: "G5", detail: `${v.c.key} has no previous view of ${g} but shares vs_set ${JSON.stringify(v.e.vsSets[v.setIx])} in ${gidKey(v.e.gid)}`,
          group: g, gid: gidKey(v.e.gid), clients: [v.c.key], positions: [pos(v.c, v.ix)], ...gseqOf(v.e)
        })
      }
    }
    for (const set of bySet.values()) {
      const withPrev = set.filter((v) => v.prev !== undefined)
      const a = withPrev[0]
      const b = a === undefined ? undefined : withPrev.find((v) => !sameGid(v.prev!.e.gid, a.prev!.e.gid))
      if (a !== undefined && b !== undefined) {
        report({
          property: "G5", detail: `${a.c.key} (previous ${gidKey(a.prev!.e.gid)}) and ${b.c.key} (previous ${gidKey(b.prev!.e.gid)}) share a vs_set of ${g} ${gidKey(v0.e.gid)}`,
          group: g, gid: gidKey(v0.e.gid), clients: [a.c.key, b.c.key], positions: [pos(a.c, a.ix), pos(b.c, b.ix)], ...gseqOf(b.e)
        })
      }
    }
    // G5 (b): with the installs, same previous gid ⇒ (same vs_set ⇔ went through the change together).
    if (installs !== undefined && ordered) {
      const transOf = (v: ViewInfo): Array<DaemonInstall> => installsBetween(v.c.log.daemon, v.prev!.e.gseq!, v.e.gseq!, "TRANS")
      const withPrev = vs.filter((v) => v.prev !== undefined && v.setIx >= 0)
      let reported = false
      for (let i = 0; i < withPrev.length && !reported; i++) {
        const x = withPrev[i]!
        const tx = transOf(x)
        for (let j = i + 1; j < withPrev.length && !reported; j++) {
          const y = withPrev[j]!
          if (!sameGid(x.prev!.e.gid, y.prev!.e.gid)) continue
          const together = tx.every((t) => t.members.includes(y.c.log.daemon)) &&
            transOf(y).every((t) => t.members.includes(x.c.log.daemon))
          if (together !== (x.setIx === y.setIx)) {
            reported = true
            report({
              property: "G5",
              detail: `${x.c.key} (${x.c.log.daemon}) and ${y.c.key} (${y.c.log.daemon}), both from ${gidKey(x.prev!.e.gid)}, ` +
                `${together ? "went through the change together but are in different vs_sets" : "were split by a transitional configuration but share a vs_set"} of ${g} ${gidKey(v0.e.gid)}`,
              group: g, gid: gidKey(v0.e.gid), clients: [x.c.key, y.c.key], positions: [pos(x.c, x.ix), pos(y.c, y.ix)], ...gseqOf(y.e)
            })
          }
        }
      }
    }
    // G8: same vs_set and same previous gid ⇒ same ordered-class messages to g since that view.
    const groupsOf = new Map<string, Array<ViewInfo>>()
    for (const v of vs) {
      if (v.prev === undefined || v.setIx < 0) continue
      const k = `${v.setIx}|${gidKey(v.prev.e.gid)}`
      if (!groupsOf.has(k)) groupsOf.set(k, [])
      groupsOf.get(k)!.push(v)
    }
    for (const together of groupsOf.values()) {
      if (together.length < 2) continue
      const selves = new Set(together.map((v) => v.c.log.privateGroup))
      const setOf = (v: ViewInfo): Set<string> =>
        new Set(v.recvBefore.filter((m) => !isReliableClass(m.service) && !(m.selfDiscard && selves.has(m.sender))).map((m) => m.id))
      const ref = setOf(together[0]!)
      for (const v of together.slice(1)) {
        const mine = setOf(v)
        const onlyRef = [...ref].filter((m) => !mine.has(m))
        const onlyMine = [...mine].filter((m) => !ref.has(m))
        if (onlyRef.length + onlyMine.length > 0) {
          const a = together[0]!
          report({
            property: "G8",
            detail: `${a.c.key} and ${v.c.key} moved together from ${g} ${gidKey(v.prev!.e.gid)} to ${gidKey(v.e.gid)} but received different messages: ` +
              `only ${a.c.key}: ${onlyRef.slice(0, 3).join(" ")}${onlyRef.length > 3 ? " …" : ""}; only ${v.c.key}: ${onlyMine.slice(0, 3).join(" ")}${onlyMine.length > 3 ? " …" : ""}`,
            group: g, gid: gidKey(v.e.gid), clients: [a.c.key, v.c.key], message: onlyRef[0] ?? onlyMine[0]!,
            positions: [pos(a.c, a.ix), pos(v.c, v.ix)], ...gseqOf(v.e)
          })
          break
        }
      }
    }
  }

  // G6 causes (the cross-client part)
  for (const c of infos) {
    for (const v of c.views) {
      const e = v.e
      const subject = e.vsSets[0]?.[0]
      const at = e.gseq
      const before = (x: ClientEvent): boolean => !ordered || x.gseq! < at!
      const where = { group: e.group, gid: gidKey(e.gid), positions: [pos(c, v.ix)], ...gseqOf(e) }
      if (e.cause === "join" || e.cause === "leave") {
        const want = e.cause === "join" ? "reqJoin" : "reqLeave"
        const cands = (byPrivate.get(subject ?? "") ?? []).filter((s) =>
          s.log.events.some((x) => x.type === want && x.group === e.group && before(x))
        )
        if (cands.length === 0) {
          report({ property: "G6", detail: `${e.cause.toUpperCase()} view of ${e.group} at ${c.key} names ${subject}, who sent no ${want}(${e.group}) before it`, clients: [c.key], ...where })
          continue
        }
        if (e.cause === "leave") {
          // The subject (if it takes membership messages) got selfLeave after some reqLeave, or ended.
          const ok = cands.some((s) => {
            if (!s.log.membership) return true
            const ev = s.log.events
            return ev.some((x, i) =>
              x.type === "reqLeave" && x.group === e.group && before(x) &&
              ev.slice(i + 1).some((y) => (y.type === "selfLeave" && y.group === e.group) || y.type === "disconnect" || y.type === "killed")
            )
          })
          if (!ok) {
            report({ property: "G6", detail: `LEAVE view of ${e.group} at ${c.key} names ${subject}, who never got selfLeave(${e.group})`, clients: [c.key, ...cands.map((s) => s.key)], ...where })
          }
        }
      } else if (e.cause === "disconnect") {
        const ok = (byPrivate.get(subject ?? "") ?? []).some((s) => s.endIx !== undefined && before(s.log.events[s.endIx]!))
        if (!ok) report({ property: "G6", detail: `DISCONNECT view of ${e.group} at ${c.key} names ${subject}, whose session had not ended`, clients: [c.key], ...where })
      } else if (installs !== undefined && ordered) {
        // NETWORK: (i) a regular install since the previous view, or (ii) an operation in a changed
        // group, followed at once by trans(g) with the same gid.
        const from = v.prev?.e.gseq ?? startGseq(c)
        const regular = installsBetween(c.log.daemon, from, at!, "REG").length > 0
        const nx = c.log.events[v.ix + 1]
        const transAfter = nx?.type === "trans" && nx.group === e.group && sameGid(nx.gid, e.gid)
        if (!regular && !transAfter) {
          report({ property: "G6", detail: `NETWORK view of ${e.group} at ${c.key} with no regular install at ${c.log.daemon} since the previous view and no trans(${e.group}) after it`, clients: [c.key], ...where })
        }
      }
    }
  }

  // Per-client message checks: G9, G12, G14, and the order lists for G10
  const agreedLists = new Map<ClientInfo, Array<string>>()
  for (const c of infos) {
    const seen = new Set<string>()
    const lastFifo = new Map<ClientInfo, { ix: number; id: string }>()
    const list: Array<string> = []
    agreedLists.set(c, list)
    c.log.events.forEach((e, ix) => {
      if (e.type !== "recv") return
      const where = { clients: [c.key], message: e.id, positions: [pos(c, ix)], ...gseqOf(e) }
      if (seen.has(e.id)) {
        report({ property: "G14", detail: `${c.key} received ${e.id} twice`, ...where })
        return
      }
      seen.add(e.id)
      const s = csendOf.get(e.id)
      if (s === undefined) {
        report({ property: "G14", detail: `${c.key} received ${e.id} from ${e.sender}, never sent`, ...where })
        return
      }
      const diff = s.c.log.privateGroup !== e.sender
        ? `sender ${e.sender} vs ${s.c.log.privateGroup}`
        : JSON.stringify(s.e.groups) !== JSON.stringify(e.groups)
        ? `groups ${JSON.stringify(e.groups)} vs ${JSON.stringify(s.e.groups)}`
        : s.e.service !== e.service || s.e.selfDiscard !== e.selfDiscard
        ? `service ${e.service}${e.selfDiscard ? "+SD" : ""} vs ${s.e.service}${s.e.selfDiscard ? "+SD" : ""}`
        : s.e.messType !== e.messType
        ? `messType ${e.messType} vs ${s.e.messType}`
        : s.e.digest !== e.digest
        ? "payload digest"
        : undefined
      if (diff !== undefined) report({ property: "G14", detail: `${c.key} received ${e.id} with other attributes than sent: ${diff}`, ...where })
      if (s.c === c && s.e.selfDiscard) report({ property: "G12", detail: `${c.key} received its own SELF_DISCARD message ${e.id}`, ...where })
      if (isFifoOrStronger(s.e.service)) {
        const last = lastFifo.get(s.c)
        if (last !== undefined && last.ix > s.ix) {
          report({ property: "G9", detail: `${c.key} received ${e.id} after ${last.id}, sent later by ${s.c.key}`, ...where })
        }
        if (last === undefined || last.ix < s.ix) lastFifo.set(s.c, { ix: s.ix, id: e.id })
      }
      if (agreedClass(s.e.service)) list.push(e.id)
    })
  }

  // G10 total order across clients: pairwise over common messages, then one total order.
  checkTotalOrder(infos, agreedLists, report)

  // G13 same view, same side
  {
    const first = new Map<string, { c: ClientInfo; ix: number; gid: string; afterTrans: boolean }>()
    for (const c of infos) {
      for (const [ix, m] of c.recvViews) {
        const e = c.log.events[ix] as RecvEvent
        if (!agreedClass(e.service)) continue
        for (const [g, { view, afterTrans }] of m) {
          const nextKey = view.next !== undefined
            ? gidKey(view.next.e.gid)
            : c.endIx === undefined && run.endOfRun?.clientsUp.has(c.key) && !hasSelfLeaveAfter(c, g, ix)
            ? "end"
            : undefined
          if (nextKey === undefined) continue
          const k = `${e.id}|${g}|${nextKey}`
          const f = first.get(k)
          const gid = gidKey(view.e.gid)
          if (f === undefined) first.set(k, { c, ix, gid, afterTrans })
          else if (f.gid !== gid || f.afterTrans !== afterTrans) {
            report({
              property: "G13",
              detail: `${e.id} to ${g}: ${f.c.key} received it in ${f.gid}${f.afterTrans ? " after trans" : ""}, ${c.key} in ${gid}${afterTrans ? " after trans" : ""}; both next ${nextKey}`,
              group: g, gid, message: e.id, clients: [f.c.key, c.key], positions: [pos(f.c, f.ix), pos(c, ix)], ...gseqOf(e)
            })
          }
        }
      }
    }
  }

  // G15 client self-delivery
  if (run.endOfRun !== undefined) {
    for (const c of infos) {
      if (!run.endOfRun.clientsUp.has(c.key)) continue
      checkSelfDelivery(c, report)
    }
  }
  return out
}

const gseqOf = (e: ClientEvent): { gseq?: number } => e.gseq === undefined ? {} : { gseq: e.gseq }

const hasSelfLeaveAfter = (c: ClientInfo, g: string, ix: number): boolean =>
  c.log.events.some((x, i) => i > ix && x.type === "selfLeave" && x.group === g)

/**
 * One client's log in order: views and membership periods, and the checks that need only this
 * log (G2, G3 a/b, G4, G6 own part, G7 a, LOG).
 */
const replayClient = (c: ClientInfo, report: (v: GroupViolation) => void): void => {
  const me = c.log.privateGroup
  const current = new Map<string, ViewInfo>()
  const afterTrans = new Map<string, boolean>()
  const pendingTrans = new Map<string, number>()
  const lastGid = new Map<string, Gid>()
  const lastIndex = new Map<string, number>()
  const sinceView = new Map<string, Array<RecvEvent>>()
  /** Groups c left (selfLeave) and has no view of since. */
  const left = new Set<string>()
  /** Per group: joins requested, and membership periods started (each needs its own request). */
  const joinsAsked = new Map<string, number>()
  const periods = new Map<string, number>()
  c.log.events.forEach((e, ix) => {
    const where = { clients: [c.key], positions: [pos(c, ix)], ...gseqOf(e) }
    if (c.endIx !== undefined) {
      report({ property: "LOG", detail: `${c.key}: ${e.type} after the session ended`, ...where })
      return
    }
    if (!c.log.membership && (e.type === "view" || e.type === "trans" || e.type === "selfLeave")) {
      report({ property: "LOG", detail: `${c.key} did not ask for membership messages but got ${e.type} of ${e.group}`, group: e.group, ...where })
    }
    switch (e.type) {
      case "disconnect":
      case "killed":
        c.endIx = ix
        return
      case "reqJoin":
        joinsAsked.set(e.group, (joinsAsked.get(e.group) ?? 0) + 1)
        return
      case "reqLeave":
        return
      case "view": {
        const g = e.group
        const k = gidKey(e.gid)
        const gw = { ...where, group: g, gid: k }
        const prev = current.get(g)
        // G6 (own part): every view that starts a membership period answers a reqJoin(g) of its
        // own (requests and replies can interleave: leave, join, leave… are applied in order).
        if (prev === undefined) {
          const n = (periods.get(g) ?? 0) + 1
          periods.set(g, n)
          if (n > (joinsAsked.get(g) ?? 0)) {
            report({ property: "G6", detail: `${c.key} got a view of ${g} without having asked to join it${left.has(g) ? " again after leaving it" : ""}`, ...gw })
          }
        }
        left.delete(g)
        if (e.cause === "join" && e.vsSets[0]?.[0] === me && prev !== undefined) {
          report({ property: "G6", detail: `${c.key}: JOIN view of ${g} naming itself while already a member (${gidKey(prev.e.gid)})`, ...gw })
        }
        // G2 self-inclusion. The vs_set part concerns NETWORK views: a JOIN/LEAVE/DISCONNECT
        // view's one vs_set is its subject (client-protocol §6.2), the receiver or not.
        const setIx = e.vsSets.findIndex((s) => s.includes(me))
        const localOk = e.cause !== "network" || (e.vsSets[e.local]?.includes(me) ?? false)
        if (!e.members.includes(me) || !localOk) {
          report({ property: "G2", detail: `${c.key}: view ${g} ${k} members ${JSON.stringify(e.members)} vs_sets ${JSON.stringify(e.vsSets)} local ${e.local} does not include it properly`, ...gw })
        }
        // G3 (a) distinct successive gids; index increasing within one membership id
        const lg = lastGid.get(g)
        if (lg !== undefined && sameGid(lg, e.gid)) report({ property: "G3", detail: `${c.key}: two successive views of ${g} with gid ${k}`, ...gw })
        lastGid.set(g, e.gid)
        const mk = `${g}|${e.gid.procId}.${e.gid.time}`
        const li = lastIndex.get(mk)
        if (li !== undefined && e.gid.index <= li) report({ property: "G3", detail: `${c.key}: view of ${g} ${k} after index ${li} of the same membership id`, ...gw })
        lastIndex.set(mk, Math.max(li ?? -Infinity, e.gid.index))
        // G4 vs_set structure
        checkStructure(c, ix, e, prev, report)
        // G7 (a) after trans(g), the next view of g is NETWORK
        if (pendingTrans.has(g) && e.cause !== "network") {
          report({ property: "G7", detail: `${c.key}: ${e.cause.toUpperCase()} view of ${g} ${k} after trans(${g}) at ${pendingTrans.get(g)}`, ...gw })
        }
        pendingTrans.delete(g)
        const v: ViewInfo = { c, ix, e, prev, next: undefined, setIx, recvBefore: sinceView.get(g) ?? [] }
        if (prev !== undefined) prev.next = v
        c.views.push(v)
        current.set(g, v)
        afterTrans.set(g, false)
        sinceView.set(g, [])
        return
      }
      case "trans": {
        const g = e.group
        const cur = current.get(g)
        // G3 (b) trans carries the current view's gid
        if (cur === undefined || !sameGid(cur.e.gid, e.gid)) {
          report({ property: "G3", detail: `${c.key}: trans(${g}, ${gidKey(e.gid)}) but the current view is ${cur ? gidKey(cur.e.gid) : "none"}`, group: g, gid: gidKey(e.gid), ...where })
        }
        pendingTrans.set(g, ix)
        afterTrans.set(g, true)
        return
      }
      case "selfLeave": {
        const g = e.group
        if (!current.has(g)) report({ property: "G6", detail: `${c.key}: selfLeave(${g}) while not a member`, group: g, ...where })
        current.delete(g)
        pendingTrans.delete(g)
        afterTrans.delete(g)
        sinceView.delete(g)
        left.add(g)
        return
      }
      case "recv": {
        // G6 LEAVE: after selfLeave(g), nothing for g unless another reason to receive it.
        const other = e.groups.some((h) => h === me || current.has(h))
        const inLeft = e.groups.find((h) => left.has(h))
        if (inLeft !== undefined && !other) {
          report({ property: "G6", detail: `${c.key} received ${e.id} for ${inLeft} after leaving it`, group: inLeft, message: e.id, ...where })
        }
        const m = new Map<string, { view: ViewInfo; afterTrans: boolean }>()
        for (const g of e.groups) {
          const v = current.get(g)
          if (v === undefined) continue
          m.set(g, { view: v, afterTrans: afterTrans.get(g) ?? false })
          sinceView.get(g)?.push(e)
        }
        if (m.size > 0) c.recvViews.set(ix, m)
        return
      }
      default:
        return
    }
  })
}

/** G4 for one view at c; `prev` is c's previous view of the group in this membership period. */
const checkStructure = (c: ClientInfo, ix: number, e: ViewEvent, prev: ViewInfo | undefined, report: (v: GroupViolation) => void): void => {
  const where = { clients: [c.key], group: e.group, gid: gidKey(e.gid), positions: [pos(c, ix)], ...gseqOf(e) }
  const bad = (what: string) => report({ property: "G4", detail: `${c.key}: ${e.cause.toUpperCase()} view of ${e.group} ${gidKey(e.gid)}: ${what}`, ...where })
  if (e.cause === "network") {
    const flat = e.vsSets.flat()
    const sorted = (xs: ReadonlyArray<string>) => [...xs].sort().join(",")
    if (flat.length !== new Set(flat).size || sorted(flat) !== sorted(e.members) || e.vsSets.some((s) => s.length === 0)) {
      bad(`vs_sets ${JSON.stringify(e.vsSets)} do not partition the members ${JSON.stringify(e.members)}`)
    }
    return
  }
  if (e.vsSets.length !== 1 || e.vsSets[0]!.length !== 1) return bad(`vs_sets ${JSON.stringify(e.vsSets)} are not one set of one member`)
  const subject = e.vsSets[0]![0]!
  const listed = e.members.includes(subject)
  if (listed !== (e.cause === "join")) return bad(`the subject ${subject} is ${listed ? "" : "not "}in the members`)
  if (prev === undefined || subject === c.log.privateGroup) return
  const expected = e.cause === "join" ? [...prev.e.members, subject] : prev.e.members.filter((m) => m !== subject)
  const a = [...expected].sort().join(",")
  const b = [...e.members].sort().join(",")
  if (a !== b || (e.cause !== "join" && !prev.e.members.includes(subject)) || (e.cause === "join" && prev.e.members.includes(subject))) {
    bad(`members ${JSON.stringify(e.members)} are not the previous ${JSON.stringify(prev.e.members)} ${e.cause === "join" ? "+" : "−"} ${subject}`)
  }
}

/**
 * G10: any two clients receive their common agreed-class messages in the same order (checked
 * pairwise through position maps), and all the per-client orders fit one total order (the union
 * of their precedences is acyclic; reported only if no pair disagrees).
 */
const checkTotalOrder = (infos: ReadonlyArray<ClientInfo>, lists: Map<ClientInfo, Array<string>>, report: (v: GroupViolation) => void): void => {
  const posMaps = new Map<ClientInfo, Map<string, number>>()
  for (const c of infos) posMaps.set(c, new Map(lists.get(c)!.map((id, i) => [id, i])))
  let found = false
  for (let i = 0; i < infos.length; i++) {
    const a = infos[i]!
    const la = lists.get(a)!
    if (la.length < 2) continue
    for (let j = i + 1; j < infos.length; j++) {
      const b = infos[j]!
      const pb = posMaps.get(b)!
      if (pb.size < 2) continue
      let lastPos = -1
      let lastId = ""
      for (const id of la) {
        const p = pb.get(id)
        if (p === undefined) continue
        if (p < lastPos) {
          found = true
          report({
            property: "G10", detail: `${a.key} received ${lastId} before ${id}, ${b.key} the other way round`,
            clients: [a.key, b.key], message: id
          })
          break
        }
        lastPos = p
        lastId = id
      }
    }
  }
  if (found) return
  // One total order: Kahn's algorithm over the consecutive precedences of every client.
  const succ = new Map<string, Set<string>>()
  const indeg = new Map<string, number>()
  for (const list of lists.values()) {
    for (let k = 0; k < list.length; k++) {
      if (!indeg.has(list[k]!)) indeg.set(list[k]!, 0)
      if (k === 0) continue
      const from = list[k - 1]!
      const to = list[k]!
      if (!succ.has(from)) succ.set(from, new Set())
      if (succ.get(from)!.has(to)) continue
      succ.get(from)!.add(to)
      indeg.set(to, (indeg.get(to) ?? 0) + 1)
    }
  }
  const ready = [...indeg].filter(([, d]) => d === 0).map(([id]) => id)
  let done = 0
  while (ready.length > 0) {
    const id = ready.pop()!
    done++
    for (const s of succ.get(id) ?? []) {
      const d = indeg.get(s)! - 1
      indeg.set(s, d)
      if (d === 0) ready.push(s)
    }
  }
  if (done < indeg.size) {
    const stuck = [...indeg].filter(([, d]) => d > 0).map(([id]) => id)
    report({ property: "G10", detail: `the clients' delivery orders fit no total order (a cycle through ${stuck.slice(0, 4).join(" ")}${stuck.length > 4 ? " …" : ""})`, message: stuck[0]! })
  }
}

/** G15 for a client that stayed up: its own messages to a group it stays a member of come back. */
const checkSelfDelivery = (c: ClientInfo, report: (v: GroupViolation) => void): void => {
  const ev = c.log.events
  const received = new Set(ev.flatMap((e) => e.type === "recv" ? [e.id] : []))
  const me = c.log.privateGroup
  // Per group: the position from which c stays a member to the end (membership views), or the
  // position of its last reqJoin with no reqLeave after it (others).
  const memberFrom = new Map<string, number>()
  if (c.log.membership) {
    const start = new Map<string, number>()
    ev.forEach((e, ix) => {
      if (e.type === "view") {
        if (!e.members.includes(me)) start.delete(e.group)
        else if (!start.has(e.group)) start.set(e.group, ix)
      } else if (e.type === "selfLeave") start.delete(e.group)
    })
    for (const [g, ix] of start) memberFrom.set(g, ix)
  }
  const asked = new Map<string, number>()
  ev.forEach((e, ix) => {
    if (e.type === "reqJoin" && !asked.has(e.group)) asked.set(e.group, ix)
    else if (e.type === "reqLeave") asked.delete(e.group)
  })
  ev.forEach((e, ix) => {
    if (e.type !== "csend" || e.selfDiscard || received.has(e.id)) return
    const g = e.groups.find((h) => {
      if (h === me) return true
      const from = memberFrom.get(h)
      if (from !== undefined && from < ix) return true
      const a = asked.get(h)
      return !c.log.membership && a !== undefined && a < ix && isFifoOrStronger(e.service)
    })
    if (g === undefined) return
    report({
      property: "G15", detail: `${c.key} sent ${e.id} (${e.service}) to ${JSON.stringify(e.groups)}, stayed up and in ${g}, and never received it`,
      clients: [c.key], group: g, message: e.id, positions: [pos(c, ix)], ...gseqOf(e)
    })
  })
}

/** One line per event, for trace excerpts. */
export const formatClientEvent = (log: ClientLog, e: ClientEvent): string => {
  const head = `${e.gseq ?? ""} t=${e.t?.toFixed(1) ?? "?"} ${log.id}`
  switch (e.type) {
    case "csend":
    case "recv":
      return `${head} ${e.type} ${e.id} ${e.type === "recv" ? `from ${e.sender} ` : ""}${e.service}${e.selfDiscard ? "+SD" : ""} → ${e.groups.join(",")}`
    case "view":
      return `${head} view ${e.group} ${gidKey(e.gid)} ${e.cause} ${JSON.stringify(e.vsSets)} local ${e.local}`
    case "trans":
      return `${head} trans ${e.group} ${gidKey(e.gid)}`
    case "reqJoin":
    case "reqLeave":
    case "selfLeave":
      return `${head} ${e.type} ${e.group}`
    case "killed":
      return `${head} killed${e.reason ? ` (${e.reason})` : ""}`
    default:
      return `${head} ${e.type}`
  }
}
