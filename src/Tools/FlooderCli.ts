/**
 * The `spflooder` program: floods a group through one daemon and measures it (Spread's flooder, plus
 * latency and delivery checks). `spflooder -m 100000 -b 100` sends and receives its own
 * messages; `-ro` on one side and `-wo` on another measure between processes or hosts.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { flood, type FloodMode, STAMP_LENGTH } from "./Flood.js"
import { deliveryFaults, formatReport, progressWriter } from "./FloodOutput.js"
import { runTool, spreadFlag, spreadStyleArgs, userFlag } from "./ToolCli.js"

class FlooderUsage extends Data.TaggedError("FlooderUsage")<{ readonly message: string }> {}

/** Messages in flight when one process sends and receives (Spread's flooder keeps a window too). */
const WINDOW = 200
/** Exit status when messages were lost, duplicated or reordered, so scripts can check delivery. */
const DELIVERY_FAULT_STATUS = 3

const SERVICES = ["unreliable", "reliable", "fifo", "causal", "agreed", "safe"] as const

/** The `spflooder` command: its flags, help and handler. */
export const spflooder = Command.make(
  "spflooder",
  {
    user: userFlag("flooder"),
    spread: spreadFlag,
    messages: Flag.Int("messages").pipe(
      Flag.withAlias("m"),
      Flag.withDescription("Messages to send (from each sender, for a receiver)"),
      Flag.withDefault(10_000)
    ),
    bytes: Flag.Int("bytes").pipe(
      Flag.withAlias("b"),
      Flag.withDescription(`Bytes per message (at least ${STAMP_LENGTH} for latency and delivery checks)`),
      Flag.withDefault(1000)
    ),
    receiveOnly: Flag.Boolean("receive-only").pipe(Flag.withDescription("Only receive (Spread's -ro)"), Flag.withDefault(false)),
    writeOnly: Flag.Boolean("write-only").pipe(Flag.withDescription("Only send (Spread's -wo)"), Flag.withDefault(false)),
    service: Flag.Literals("service", SERVICES).pipe(Flag.withDescription("Service of the messages"), Flag.withDefault("agreed")),
    groups: Flag.String("groups").pipe(
      Flag.withDescription("Group, or comma-separated groups, to flood (each message goes to all)"),
      Flag.withDefault("flooder")
    ),
    senders: Flag.Int("senders").pipe(
      Flag.withDescription("How many senders a receiver (-ro) waits for"),
      Flag.withDefault(1)
    ),
    idle: Flag.Finite("idle").pipe(
      Flag.withDescription("Seconds without messages, once they flowed, after which a receiver counts the rest as lost"),
      Flag.withDefault(5)
    ),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print the report as one JSON line"), Flag.withDefault(false))
  },
  Effect.fn(function*(o) {
    const groups = o.groups.split(",").map((g) => g.trim()).filter((g) => g.length > 0)
    if (o.receiveOnly && o.writeOnly) return yield* new FlooderUsage({ message: "-ro and -wo exclude each other" })
    if (o.messages < 1) return yield* new FlooderUsage({ message: "-m needs at least 1 message" })
    if (o.bytes < 0) return yield* new FlooderUsage({ message: "-b cannot be negative" })
    if (o.senders < 1) return yield* new FlooderUsage({ message: "--senders needs at least 1" })
    if (!(o.idle > 0)) return yield* new FlooderUsage({ message: "--idle needs a positive number of seconds" })
    if (groups.length === 0) return yield* new FlooderUsage({ message: "--groups names no group" })
    const mode: FloodMode = o.receiveOnly ? "receive" : o.writeOnly ? "send" : "both"
    if (o.bytes < STAMP_LENGTH && mode !== "send") {
      process.stderr.write(`spflooder: messages under ${STAMP_LENGTH} bytes carry no stamp: no latency or delivery checks\n`)
    }
    const total = mode === "receive" ? o.messages * o.senders : o.messages
    const bar = process.stdout.isTTY && !o.json ? progressWriter(process.stdout, total) : undefined
    const report = yield* flood({
      spreadName: o.spread,
      privateName: o.user,
      group: groups,
      messages: o.messages,
      bytes: o.bytes,
      service: o.service,
      mode,
      window: WINDOW,
      senders: o.senders,
      idleSeconds: o.idle,
      ...(bar === undefined ? {} : { onProgress: bar.onProgress })
    })
    bar?.clear()
    const text = o.json ? [JSON.stringify(report)] : formatReport(report, { service: o.service, groups })
    process.stdout.write(`${text.join("\n")}\n`)
    if (deliveryFaults(report) > 0) process.exitCode = DELIVERY_FAULT_STATUS
  })
).pipe(
  Command.withDescription("Flood a Spread group and measure throughput, latency and delivery"),
  Command.withExamples([
    { command: "spflooder -s 4803 -m 100000 -b 100", description: "send and receive 100,000 messages of 100 bytes" },
    { command: "spflooder -u rx -ro -m 100000 --senders 2", description: "receive what two senders send" },
    { command: "spflooder -u tx -wo -m 100000 --service safe", description: "only send, SAFE" }
  ])
)

/** Runs `spflooder` with the process's arguments. */
export const main = (): void =>
  runTool(spflooder, spreadStyleArgs(process.argv.slice(2), { "-ro": "--receive-only", "-wo": "--write-only" }))
