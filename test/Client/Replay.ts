/**
 * Replays one connection of a golden vector against the client: the scripted daemon serves
 * the daemon's bytes and checks ours; this driver performs the connection's calls (join,
 * leave, multicast, disconnect) and checks every delivered message against `sp_receive`.
 */
import { expect } from "@effect/vitest"
import { Cause, Effect, Exit, Queue, Scope, Stream } from "effect"
import {
  equalGroupIds,
  type GroupId,
  type ReceiveError,
  type ServiceType,
  SpreadClient,
  type SpreadClientService,
  type SpreadMessage
} from "../../src/Client/index.js"
import { type Chunking, type Fixture, startScriptedDaemon, type Step, stepsOf } from "./ScriptedDaemon.js"

const SERVICE_BY_NAME: Record<string, ServiceType> = {
  UNRELIABLE_MESS: "unreliable",
  RELIABLE_MESS: "reliable",
  FIFO_MESS: "fifo",
  CAUSAL_MESS: "causal",
  AGREED_MESS: "agreed",
  SAFE_MESS: "safe"
}

/** Every message of the session in a queue the test takes from one at a time. */
export const collect = (client: SpreadClientService) =>
  Effect.gen(function*() {
    const inbox = yield* Queue.unbounded<SpreadMessage, ReceiveError | Cause.Done>()
    yield* client.messages.pipe(
      Stream.runForEachArray((chunk) => Queue.offerAll(inbox, chunk)),
      Effect.exit,
      Effect.flatMap((exit) => Exit.isSuccess(exit) ? Queue.end(inbox) : Queue.failCause(inbox, exit.cause)),
      Effect.forkScoped
    )
    return inbox
  })

/** What `SP_receive` reports for `m` (client-protocol §7.2). */
export const asSpReceive = (m: SpreadMessage) => {
  switch (m._tag) {
    case "Data":
    case "Reject":
      return { service_type: m.serviceType, sender: m.sender, groups: m.groups, mess_type: m.messType, endian_mismatch: m.endianMismatch ? 1 : 0 }
    case "Membership":
      return { service_type: m.serviceType, sender: m.group, groups: m.members, mess_type: m.myIndex, endian_mismatch: 0 }
    case "Transition":
    case "SelfLeave":
      return { service_type: m.serviceType, sender: m.group, groups: [], mess_type: -1, endian_mismatch: 0 }
  }
}

const gidOf = (words: ReadonlyArray<number>): GroupId => ({ procId: words[0]! | 0, time: words[1]! | 0, index: words[2]! | 0 })

/** Checks one delivered message against a `d2c` step; `labels` maps gid labels to ids seen. */
export const checkMessage = (m: SpreadMessage, step: Step, labels: Map<string, GroupId>): void => {
  const decoded = step.decoded
  const sp = decoded.sp_receive
  expect(asSpReceive(m)).toEqual({
    service_type: sp.service_type,
    sender: sp.sender,
    groups: sp.groups,
    mess_type: sp.mess_type,
    endian_mismatch: sp.endian_mismatch
  })
  if (m._tag === "Data") {
    const bytes = Buffer.from(step.hex!, "hex")
    expect(m.data.length).toBe(sp.return)
    expect(Buffer.compare(m.data, bytes.subarray(bytes.length - decoded.data_len))).toBe(0)
  }
  if (m._tag === "Membership" || m._tag === "Transition") {
    const memb = decoded.membership
    const gid = gidOf(memb.gid)
    expect(equalGroupIds(m.groupId, gid)).toBe(true)
    // Same label, same id; different labels, different ids (README: compare by label).
    for (const [label, other] of labels) expect(equalGroupIds(m.groupId, other)).toBe(label === memb.gid_label)
    labels.set(memb.gid_label, m.groupId)
    if (m._tag === "Membership") {
      expect(m.vsSets).toEqual(memb.vs_sets)
      expect(m.localVsSetIndex).toBe(memb.local_vs_set_index)
      const changed = memb.memb_info.changed_member
      expect(m.changedMember ?? "").toBe(changed)
    }
  }
}

export interface ReplayOptions {
  readonly transport: "tcp" | "unix"
  readonly chunking: Chunking
}

/** Replays connection `conn` of `fixture`; fails the test on any difference. */
export const replayConnection = (fixture: Fixture, conn: string, options: ReplayOptions) =>
  Effect.gen(function*() {
    const steps = stepsOf(fixture, conn)
    const info = fixture.connections[conn]!
    const daemon = yield* Effect.acquireRelease(
      Effect.promise(() => startScriptedDaemon(steps, options)),
      (d) => Effect.promise(() => d.close())
    )
    const sessionScope = yield* Scope.make()
    const client = yield* SpreadClient.make({
      spreadName: daemon.spreadName,
      privateName: info.private_name ?? "",
      groupMembership: info.group_membership
    }).pipe(Scope.provide(sessionScope))
    if (info.private_group !== undefined) expect(client.privateGroup).toBe(info.private_group)
    const inbox = yield* collect(client).pipe(Scope.provide(sessionScope))
    const labels = new Map<string, GroupId>()
    const afterAccept = steps.findIndex((s) => s.decoded?.kind === "accept") + 1
    let delivered = 0
    for (const step of steps.slice(afterAccept)) {
      if (step.dir === "c2d") {
        const f = step.fields
        const names: ReadonlyArray<string> = f.type_names
        if (names.includes("KILL_MESS")) yield* Scope.close(sessionScope, Exit.void)
        else if (names.includes("JOIN_MESS")) yield* client.join(f.groups[0])
        else if (names.includes("LEAVE_MESS")) yield* client.leave(f.groups[0])
        else {
          const bytes = Buffer.from(step.hex!, "hex")
          const service = SERVICE_BY_NAME[names.find((n) => n in SERVICE_BY_NAME)!]!
          const groups: ReadonlyArray<string> = f.groups
          yield* client.multicast(service, groups.length === 1 ? groups[0]! : groups, f.mess_type, bytes.subarray(bytes.length - f.data_len), {
            selfDiscard: names.includes("SELF_DISCARD")
          })
        }
      } else if (step.event !== "eof") {
        const message = yield* Queue.take(inbox)
        checkMessage(message, step, labels)
        delivered++
      }
    }
    const problems = yield* Effect.promise(() => daemon.finished)
    expect(problems).toEqual([])
    return delivered
  }).pipe(Effect.scoped)
