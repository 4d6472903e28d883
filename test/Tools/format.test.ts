/**
 * The pure parts of the tools: how messages print, the command language, Spread-style flags,
 * the flooder's report and progress bar.
 */
import { describe, expect, it } from "@effect/vitest"
import { CAUSED_BY_NETWORK, REG_MEMB_MESS, REJECT_MESS, SAFE_MESS } from "../../src/Protocol/index.js"
import { describeMessage, payloadText, serviceName } from "../../src/Tools/Format.js"
import { formatReport, progressBar } from "../../src/Tools/FloodOutput.js"
import { spreadStyleArgs } from "../../src/Tools/ToolCli.js"
import { burstPayload, parseCommand, parseCount, parseService } from "../../src/Tools/UserCommand.js"

describe("describeMessage", () => {
  it("shows a network membership with every vs set, local one marked", () => {
    const text = describeMessage({
      _tag: "Membership",
      serviceType: REG_MEMB_MESS | CAUSED_BY_NETWORK,
      cause: "network",
      group: "chat",
      members: ["#a#n1", "#b#n2", "#c#n2"],
      groupId: { procId: 7, time: -3, index: 12 },
      vsSets: [["#a#n1"], ["#b#n2", "#c#n2"]],
      localVsSetIndex: 1,
      changedMember: undefined,
      myIndex: 2
    })
    expect(text).toBe([
      "Received REGULAR membership for group chat with 3 members, where I am member 2:",
      "\t#a#n1",
      "\t#b#n2",
      "\t#c#n2",
      "grp id is 7 -3 12",
      "Due to NETWORK change with 2 VS sets",
      "OTHER VS set 0 has 1 members:",
      "\t#a#n1",
      "LOCAL VS set 1 has 2 members:",
      "\t#b#n2",
      "\t#c#n2"
    ].join("\n"))
  })

  it("shows transitional, self-leave and reject messages", () => {
    expect(describeMessage({ _tag: "Transition", serviceType: 0x2000, group: "g", groupId: { procId: 1, time: 2, index: 3 } }))
      .toBe("received TRANSITIONAL membership for group g")
    expect(describeMessage({ _tag: "SelfLeave", serviceType: 0x200, group: "g" })).toBe("received membership message that left group g")
    expect(describeMessage({
      _tag: "Reject",
      serviceType: REJECT_MESS | SAFE_MESS,
      sender: "#a#n1",
      groups: ["g", "#a#n1"],
      messType: -2,
      endianMismatch: true,
      data: Buffer.from("x\n")
    })).toBe("REJECTED message from #a#n1, of service type 0x400020, of type -2, (endian 1) to 2 groups (g, #a#n1)\n(2 bytes): x")
  })

  it("keeps binary payloads off the terminal", () => {
    expect(payloadText(Buffer.from([0x41, 0x00, 0x1b, 0x0a, 0x42]))).toBe("A..\nB")
    expect(serviceName(0x40 | 0x10)).toBe("AGREED")
    expect(serviceName(0)).toBe("UNKNOWN")
  })
})

describe("the command language", () => {
  it("parses letters and groups", () => {
    expect(parseCommand("  s chat news ")).toEqual({ _tag: "Send", groups: ["chat", "news"] })
    expect(parseCommand("join chat")).toEqual({ _tag: "Join", group: "chat" })
    expect(parseCommand("b")).toEqual({ _tag: "Invalid", reason: "b needs a group name" })
    expect(parseCommand("")).toEqual({ _tag: "Nothing" })
    expect(parseCommand("?")).toEqual({ _tag: "Help" })
  })

  it("reads service and count answers", () => {
    expect(parseService("")).toBe("safe")
    expect(parseService(" A ")).toBe("agreed")
    expect(parseService("causal")).toBe("causal")
    expect(parseService("x")).toBeUndefined()
    expect(parseCount("", 10, 100)).toBe(10)
    expect(parseCount("0", 10, 100)).toBeUndefined()
    expect(parseCount("101", 10, 100)).toBeUndefined()
    expect(burstPayload(3, 5).toString()).toBe("burst")
  })

  it("maps Spread's -ro and -wo, and nothing after --", () => {
    const words = { "-ro": "--receive-only", "-wo": "--write-only" }
    expect(spreadStyleArgs(["-ro", "-m", "5", "-wo"], words)).toEqual(["--receive-only", "-m", "5", "--write-only"])
    expect(spreadStyleArgs(["--", "-ro"], words)).toEqual(["--", "-ro"])
  })
})

describe("the flooder's output", () => {
  it("formats a receiver's report and a bar", () => {
    const lines = formatReport({
      mode: "receive",
      bytes: 100,
      sent: 0,
      received: 900,
      seconds: 0.5,
      messagesPerSecond: 1800,
      megabytesPerSecond: 0.18,
      latencyP50: 1.5,
      latencyP99: 9.25,
      lost: 100,
      duplicated: 2,
      outOfOrder: 1
    }, { service: "agreed", groups: ["flooder"] })
    expect(lines).toEqual([
      "received 900 messages of 100 bytes in 0.500 s (AGREED to flooder)",
      "  1,800 messages/s, 0.18 MB/s",
      "  latency p50 1.500 ms, p99 9.250 ms",
      "  lost 100, duplicated 2, out of order 1"
    ])
    expect(progressBar(1, 4)).toBe(`\r[${"#".repeat(8)}${".".repeat(22)}]  25%  1/4 messages`)
  })
})
