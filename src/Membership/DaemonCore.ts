/**
 * The daemon's sans-IO core for sessions and groups (daemon-protocol §8, client-protocol §8):
 * private names, the ordered join / leave / kill / data operations and their routing to local
 * sessions. It reads no clock or socket; its randomness comes from a seeded PRNG; it reports
 * every effect through {@link CoreSink}.
 *
 * Ordering: this daemon is a ring of one (design card), so an operation is ordered and delivered
 * in the call that submits it, and every local receiver sees one interleaving of data and views
 * (client-protocol §13 item 7). The multi-daemon ring (daemon-protocol §5–§7) slots in between
 * `submit*` and `deliver*` below.
 */
import { parsePrivateGroup, privateGroupOf } from "../Protocol/index.js"
import { type ConfigurationId, nextRingSeq } from "./ConfigurationId.js"
import { GroupTable, type LocalMember } from "./Groups.js"
import { Prng } from "./Ring/Prng.js"

export interface CoreSink {
  /** Queue one whole client message for a session. */
  deliver(sessionId: number, bytes: Buffer): void
  /** The session's kill has been delivered: drop what is queued for it and close its socket. */
  close(sessionId: number): void
}

export interface CoreInit {
  readonly daemonName: string
  /** Daemon id (daemon-protocol §2.1). */
  readonly daemonId: number
  /** Ring seqs start above this (daemon-protocol §6.10). */
  readonly ringSeqFloor: number
  readonly seed: number
}

interface Session extends LocalMember {
  readonly id: number
  readonly privateName: string
  groupMembership: boolean
  state: "pending" | "open" | "killed"
  /** Last delivery stamp, so a multi-group message reaches a session once (§8.9). */
  stamp: number
}

/** The reference invents `"r" + random(0..9998) + "-" + fd`, cut to 9 characters (client-protocol §3.3). */
const INVENTED_NAME_LENGTH = 9
const INVENTED_NAME_RANGE = 9999

export class DaemonCore {
  private readonly sessions = new Map<number, Session>()
  private readonly byName = new Map<string, Session>()
  private readonly groups: GroupTable
  private readonly prng: Prng
  private stamp = 0
  /** The regular configuration installed at boot (daemon-protocol §6.11: `{me}`, no transitional). */
  readonly regular: ConfigurationId

  constructor(private readonly init: CoreInit, private readonly sink: CoreSink) {
    this.prng = new Prng(init.seed)
    this.regular = { kind: "REG", seq: nextRingSeq(init.ringSeqFloor), rep: init.daemonId }
    // A ring of one: no state exchange ever runs, so the exchange outputs have nothing to do
    // (daemon-protocol §8.6 first row: boot installs R and opens the gate).
    this.groups = new GroupTable(
      { myDaemonId: init.daemonId, rankOf: (id) => (id === init.daemonId ? 0 : undefined) },
      {
        send: (member, bytes) => sink.deliver((member as Session).id, bytes),
        submitGroupsState: () => {},
        pauseClients: () => {},
        resumeClients: () => {},
        groupsStateRejected: () => {}
      }
    )
    this.groups.installRegular(this.regular, [init.daemonId])
  }

  get daemonName(): string {
    return this.init.daemonName
  }

  get sessionCount(): number {
    return this.sessions.size
  }

  /**
   * Reserves a private name during the handshake (client-protocol §3.3 step 5–6): undefined if
   * another session, live or still being killed, holds it. An empty name gets an invented one.
   */
  reserveName(sessionId: number, requested: string): string | undefined {
    const name = requested === "" ? this.inventName(sessionId) : requested
    if (this.byName.has(name) || this.sessions.has(sessionId)) return undefined
    const session: Session = {
      id: sessionId,
      privateName: name,
      privateGroup: privateGroupOf(name, this.init.daemonName),
      groupMembership: false,
      state: "pending",
      stamp: 0
    }
    this.sessions.set(sessionId, session)
    this.byName.set(name, session)
    return name
  }

  private inventName(sessionId: number): string {
    for (;;) {
      const name = `r${this.prng.int(INVENTED_NAME_RANGE)}-${sessionId}`.slice(0, INVENTED_NAME_LENGTH)
      if (!this.byName.has(name)) return name
    }
  }

  /** The handshake succeeded: the session is operational (client-protocol §8.1). */
  open(sessionId: number, groupMembership: boolean): void {
    const s = this.sessions.get(sessionId)
    if (s === undefined || s.state !== "pending") return
    s.groupMembership = groupMembership
    s.state = "open"
  }

  /** The private group of a session, as the sender-name check needs it (client-protocol §5.3). */
  privateGroup(sessionId: number): string | undefined {
    return this.sessions.get(sessionId)?.privateGroup
  }

  /**
   * A data message from a session, already in delivery form (client-protocol §6.1): every
   * receiver gets these bytes. `groups` are the destination names (C strings).
   */
  multicast(sessionId: number, bytes: Buffer, groups: ReadonlyArray<string>, selfDiscard: boolean): void {
    const sender = this.sessions.get(sessionId)
    if (sender === undefined || sender.state !== "open") return
    // Ring of one: ordered now. §8.9 routing.
    const stamp = ++this.stamp
    if (selfDiscard) sender.stamp = stamp
    for (let i = 0; i < groups.length; i++) {
      const name = groups[i]!
      if (name.charCodeAt(0) === 0x23) {
        const target = this.privateTarget(name)
        if (target !== undefined && target.stamp !== stamp) {
          target.stamp = stamp
          this.sink.deliver(target.id, bytes)
        }
        continue
      }
      const members = this.groups.localMembers(name)
      if (members === undefined) continue
      for (const member of members) {
        const target = member as Session
        if (target.stamp === stamp) continue
        target.stamp = stamp
        this.sink.deliver(target.id, bytes)
      }
    }
  }

  /** `#priv#<this daemon>` names a live session here; anything else is dropped (§8.4 of client-protocol). */
  private privateTarget(name: string): Session | undefined {
    const parts = parsePrivateGroup(name)
    if (parts === undefined || parts.daemonName !== this.init.daemonName) return undefined
    const s = this.byName.get(parts.privateName)
    return s?.state === "open" ? s : undefined
  }

  /** Join: an ordered operation (daemon-protocol §8.2), applied by §8.5. */
  join(sessionId: number, group: string): void {
    const s = this.sessions.get(sessionId)
    if (s?.state !== "open") return
    this.groups.join(s.privateGroup, this.init.daemonId, group, s)
  }

  leave(sessionId: number, group: string): void {
    const s = this.sessions.get(sessionId)
    if (s?.state !== "open") return
    this.groups.leave(s.privateGroup, this.init.daemonId, group)
  }

  /**
   * Ends a session: a client's KILL_MESS, EOF, an error, a protocol violation or a slow reader
   * (client-protocol §8.1). A pending (handshaking) session just frees its name. An operational
   * one is killed in order: it leaves every group with CAUSED_BY_DISCONNECT, then its name is
   * freed and its socket closed (5.0.1 closes after the kill is delivered, §8.7).
   */
  disconnect(sessionId: number): void {
    const s = this.sessions.get(sessionId)
    if (s === undefined || s.state === "killed") return
    const wasOpen = s.state === "open"
    s.state = "killed"
    if (wasOpen) this.groups.kill(s.privateGroup, this.init.daemonId)
    this.sessions.delete(sessionId)
    this.byName.delete(s.privateName)
    this.sink.close(sessionId)
  }
}
