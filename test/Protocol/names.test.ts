/** `spread_name` parsing (client-protocol §2.2) and private groups (§1, §5.3 item 2, §8.4). */
import { describe, expect, it } from "vitest"
import { isPrivateGroupName, parsePrivateGroup, privateGroupOf } from "../../src/Protocol/PrivateGroup.ts"
import { describeDaemonAddress, parseSpreadName, unixSocketPath } from "../../src/Protocol/SpreadName.ts"

describe("parseSpreadName", () => {
  it("\"<port>\" is the Unix socket /tmp/<port>", () => {
    expect(parseSpreadName("4803")).toEqual({ _tag: "Unix", path: "/tmp/4803" })
    expect(parseSpreadName("25100")).toEqual({ _tag: "Unix", path: "/tmp/25100" })
    expect(unixSocketPath(4803)).toBe("/tmp/4803")
  })

  it("\"<port>@<host>\" is TCP", () => {
    expect(parseSpreadName("4803@localhost")).toEqual({ _tag: "Tcp", host: "localhost", port: 4803 })
    expect(parseSpreadName("25100@127.0.0.1")).toEqual({ _tag: "Tcp", host: "127.0.0.1", port: 25100 })
  })

  it("an empty or absent name means the default Unix socket", () => {
    expect(parseSpreadName("")).toEqual({ _tag: "Unix", path: "/tmp/4803" })
    expect(parseSpreadName(undefined)).toEqual({ _tag: "Unix", path: "/tmp/4803" })
  })

  it("accepts the port range 1..65535", () => {
    expect(parseSpreadName("1")).toEqual({ _tag: "Unix", path: "/tmp/1" })
    expect(parseSpreadName("65535@h")).toEqual({ _tag: "Tcp", host: "h", port: 65535 })
  })

  it("an absolute path names a Unix socket directly (our extension)", () => {
    expect(parseSpreadName("/var/run/spread.sock")).toEqual({ _tag: "Unix", path: "/var/run/spread.sock" })
  })

  it.each(["bogus", "@host", "4803host", "4803@", "0", "70000", "65536", "0@host", "-1", "+4803", " 4803", "4803 ", "48a3@host", "123456"])(
    "%j is ILLEGAL_SPREAD (undefined)",
    (name) => {
      expect(parseSpreadName(name)).toBeUndefined()
    }
  )

  it("an IPv6 host is taken whole, and shown in brackets", () => {
    const address = parseSpreadName("4803@fd00::1")!
    expect(address).toEqual({ _tag: "Tcp", host: "fd00::1", port: 4803 })
    expect(describeDaemonAddress(address)).toBe("[fd00::1]:4803")
    expect(describeDaemonAddress(parseSpreadName("4803@127.0.0.1")!)).toBe("127.0.0.1:4803")
    expect(describeDaemonAddress(parseSpreadName("4803")!)).toBe("/tmp/4803")
  })

  it("rejects names longer than 70 characters", () => {
    const host = "h".repeat(65)
    expect(parseSpreadName(`4803@${host}`)).toEqual({ _tag: "Tcp", host, port: 4803 })
    expect(parseSpreadName(`4803@${host}x`)).toBeUndefined()
  })
})

describe("parsePrivateGroup", () => {
  it.each([
    ["#alice#node1", "alice", "node1"],
    ["#a#b", "a", "b"],
    ["#abcdefghij#node1", "abcdefghij", "node1"],
    ["#r1083-9#node1", "r1083-9", "node1"],
    ["#x#abcdefghijklmnopqrs", "x", "abcdefghijklmnopqrs"],
    ["#$~#~$", "$~", "~$"]
  ])("%s → %s at %s", (name, privateName, daemonName) => {
    expect(parsePrivateGroup(name)).toEqual({ privateName, daemonName })
    expect(privateGroupOf(privateName, daemonName)).toBe(name)
    expect(isPrivateGroupName(name)).toBe(true)
  })

  it.each([
    ["", "empty"],
    ["chat", "not a private group"],
    ["alice#node1", "no leading #"],
    ["#alice", "no second #"],
    ["##node1", "empty private name"],
    ["#alice#", "empty daemon name"],
    ["#abcdefghijk#node1", "private name of 11 characters"],
    ["#x#abcdefghijklmnopqrst", "daemon name of 20 characters"],
    ["#a b#node1", "space in the private name"],
    ["#alice#no de1", "space in the daemon name"],
    ["#alice#node#1", "# in the daemon name"],
    ["#al\u00e9#node1", "byte ≥ 0x80"],
    ["#al\u0001#node1", "control character"],
    ["#alice#node1\u007f", "DEL"]
  ])("%j is malformed (%s)", (name) => {
    expect(parsePrivateGroup(name)).toBeUndefined()
  })

  it("isPrivateGroupName looks at the first character only", () => {
    expect(isPrivateGroupName("#")).toBe(true)
    expect(isPrivateGroupName("chat")).toBe(false)
    expect(isPrivateGroupName("")).toBe(false)
  })
})
