import { describe, expect, it } from "vitest"
import { ConfigError, parseConfig } from "../../src/Config/index.ts"

/** A valid segment, to append settings to. */
const S = "Spread_Segment 10.0.0.255 { a 10.0.0.1 }\n"

/** [what is wrong, the file, the error without the file name: "line:column: expected …, found …"]. */
const MALFORMED: ReadonlyArray<readonly [string, string, string]> = [
  ["empty file", "", "1:1: expected at least one Spread_Segment, found end of file"],
  ["only comments", "# nothing\n   # here\n", "3:1: expected at least one Spread_Segment, found end of file"],
  ["bad daemon address", "Spread_Segment 10.0.0.255:4803 {\n    node1 10.0.0.1\n    node2 10.0.0.2\n    node3 10.0.0\n}\n", "4:11: expected an IPv4 or IPv6 address after \"node3\", found \"10.0.0\""],
  ["segment without address", "Spread_Segment {\n  a 10.0.0.1\n}\n", "1:16: expected a segment address such as 192.168.1.255:4803 after Spread_Segment, found \"{\""],
  ["segment with a host name", "Spread_Segment localhost:4803 { a 10.0.0.1 }", "1:16: expected a segment address such as 192.168.1.255:4803 after Spread_Segment, found \"localhost:4803\""],
  ["segment port too large", "Spread_Segment 10.0.0.255:70000 { a 10.0.0.1 }", "1:16: expected a port from 1 to 65534 (tokens use the next port), found \"70000\""],
  ["segment port 65535 leaves no token port", "Spread_Segment 10.0.0.255:65535 { a 10.0.0.1 }", "1:16: expected a port from 1 to 65534 (tokens use the next port), found \"65535\""],
  ["segment address 0.0.0.0", "Spread_Segment 0.0.0.0:4803 { a 10.0.0.1 }", "1:16: expected a broadcast or multicast segment address, found \"0.0.0.0\""],
  ["second segment address with a port", "Spread_Segment 10.0.0.255 10.1.0.255:4803 { a 10.0.0.1 }", "1:27: expected another segment address (without a port) or \"{\", found \"10.1.0.255:4803\""],
  ["missing open brace", "Spread_Segment 10.0.0.255\n  a 10.0.0.1\n}", "2:3: expected another segment address (without a port) or \"{\", found \"a\""],
  ["unclosed segment", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1\n", "3:1: expected a daemon name or address, or \"}\" to close the segment, found end of file"],
  ["empty segment", "Spread_Segment 10.0.0.255 { }\n", "1:1: expected at least one daemon in the segment, found an empty segment"],
  ["stray close brace", S + "}\n", "2:1: expected a setting or Spread_Segment, found \"}\""],
  ["equals as a daemon", "Spread_Segment 10.0.0.255 {\n  = 10.0.0.1\n}", "2:3: expected a daemon name or address, or \"}\" to close the segment, found \"=\""],
  ["IPv4 out of range", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.300\n}", "2:5: expected an IPv4 or IPv6 address after \"a\", found \"10.0.0.300\""],
  ["IPv6 malformed", "ActiveIPVersion = IPv6\nSpread_Segment ff02::1 {\n  a 2001:db8:::1\n}", "3:5: expected an IPv4 or IPv6 address after \"a\", found \"2001:db8:::1\""],
  ["daemon address with a port", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1:4803\n}", "2:5: expected an address without a port (daemons use their segment's port), found \"10.0.0.1:4803\""],
  ["daemon multicast address", "Spread_Segment 10.0.0.255 {\n  a 224.0.0.1\n}", "2:5: expected a daemon's own address, not a multicast address, found \"224.0.0.1\""],
  ["daemon unspecified address", "Spread_Segment 10.0.0.255 {\n  a 0.0.0.0\n}", "2:5: expected a daemon address, not the unspecified address, found \"0.0.0.0\""],
  ["daemon IPv6 in IPv4 config", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1\n  b 2001:db8::1\n}", "3:5: expected an IPv4 daemon address (the ActiveIPVersion), found \"2001:db8::1\""],
  ["segment IPv4 in IPv6 config", "ActiveIPVersion = IPv6\nSpread_Segment 10.0.0.255 { a 10.0.0.1 }", "2:16: expected an IPv6 segment address (the ActiveIPVersion), found \"10.0.0.255\""],
  ["duplicate daemon name", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1\n  a 10.0.0.2\n}", "3:3: expected a daemon name not used before (line 2), found \"a\""],
  ["duplicate address", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1\n  b 10.0.0.1\n}", "3:5: expected an address and port not used before (line 2, \"a\"), found \"10.0.0.1\" port 4803"],
  ["duplicate VirtualID", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 VirtualID = 5\n  b 10.0.0.2 VirtualID = 5\n}", "3:26: expected a daemon id not used before (line 2, \"a\"); set a VirtualID, found id 5 of \"b\""],
  ["VirtualID zero", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 VirtualID = 0\n}", "2:26: expected a whole number from 1 to 4294967294, found \"0\""],
  ["VirtualID not a number", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 VirtualID = x\n}", "2:26: expected a whole number from 1 to 4294967294, found \"x\""],
  ["VirtualID without =", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 VirtualID 5\n}", "2:24: expected \"=\" after VirtualID, found \"5\""],
  ["empty interface stanza", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 { }\n}", "2:16: expected interface roles (D, C, M) and an IPv4 or IPv6 address, found \"}\""],
  ["interface role X", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 { X 10.0.0.1 }\n}", "2:16: expected interface roles (D, C, M) and an IPv4 or IPv6 address, found \"X\""],
  ["interface roles without address", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 { D C }\n}", "2:20: expected interface roles (D, C, M) and an IPv4 or IPv6 address, found \"}\""],
  ["interfaces without a daemon role on the address", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1 { C M 10.0.0.1 D 10.0.0.9 }\n}", "2:3: expected an interface with role D on 10.0.0.1 or 0.0.0.0 in the interfaces of \"a\", found none"],
  ["daemon name with a bad character", "Spread_Segment 10.0.0.255 {\n  \"a b\" 10.0.0.1\n}", "2:3: expected a daemon name of printable ASCII characters without spaces, quotes or #, found \"a b\""],
  ["empty quoted daemon name", "Spread_Segment 10.0.0.255 {\n  \"\" 10.0.0.1\n}", "2:3: expected a daemon name of printable ASCII characters without spaces, quotes or #, found \"\""],
  ["unterminated quote", "EventLogFile = \"/tmp/x\nSpread_Segment 10.0.0.255 { a 10.0.0.1 }", "1:16: expected a closing \" on the same line, found end of line"],
  ["unknown keyword", S + "Windw = 10\n", "2:1: expected a setting or Spread_Segment (did you mean Window?), found \"Windw\""],
  ["unknown keyword far from any", S + "Colour = blue\n", "2:1: expected a setting or Spread_Segment, found \"Colour\""],
  ["setting without =", S + "Window 10\n", "2:8: expected \"=\" after Window, found \"10\""],
  ["setting without value", S + "Window =\n", "3:1: expected a whole number from 1 to 32767, found end of file"],
  ["Window zero", S + "Window = 0\n", "2:10: expected a whole number from 1 to 32767, found \"0\""],
  ["Window not a number", S + "Window = lots\n", "2:10: expected a whole number from 1 to 32767, found \"lots\""],
  ["negative timeout", S + "TokenTimeout = -5\n", "2:16: expected a whole number of milliseconds from 1 to 2147483647, found \"-5\""],
  ["bad boolean", S + "DangerousMonitor = maybe\n", "2:20: expected true, false, yes, no, on or off, found \"maybe\""],
  ["bad SocketPortReuse", S + "SocketPortReuse = sometimes\n", "2:19: expected auto, on or off, found \"sometimes\""],
  ["bad ActiveIPVersion", "ActiveIPVersion = IPv5\n" + S, "1:19: expected IPv4 or IPv6, found \"IPv5\""],
  ["conflicting ActiveIPVersion", "ActiveIPVersion = IPv4\nActiveIPVersion = IPv6\n" + S, "2:1: expected ActiveIPVersion = IPv4 as on line 1, found \"ActiveIPVersion = IPv6\""],
  ["bad debug flag", S + "DebugFlags = { PRINT EXIT NETWROK }\n", "2:27: expected a debug flag (EXIT PRINT DEBUG DATA_LINK NETWORK PROTOCOL SESSION CONFIGURATION MEMBERSHIP FLOW_CONTROL STATUS EVENTS GROUPS MEMORY SKIPLIST ACM SECURITY ALL NONE), \"!\" or \"}\", found \"NETWROK\""],
  ["debug flags without braces", S + "DebugFlags = PRINT\n", "2:14: expected \"{\" to open the list of debug flags, found \"PRINT\""],
  ["unclosed debug flags", S + "DebugFlags = { PRINT\n", "3:1: expected a debug flag (EXIT PRINT DEBUG DATA_LINK NETWORK PROTOCOL SESSION CONFIGURATION MEMBERSHIP FLOW_CONTROL STATUS EVENTS GROUPS MEMORY SKIPLIST ACM SECURITY ALL NONE), \"!\" or \"}\", found end of file"],
  ["bad event priority", S + "EventPriority = LOUD\n", "2:17: expected an event priority (pDEBUG, INFO, WARNING, ERROR, CRITICAL or FATAL), found \"LOUD\""],
  ["bad auth method", S + "AllowedAuthMethods = \"NULL KERBEROS\"\n", "2:22: expected authentication methods (NULL, IP, PWORD), found \"KERBEROS\""],
  ["bad access control policy", S + "AccessControlPolicy = DENY\n", "2:23: expected an access control policy (PERMIT), found \"DENY\""],
  ["bad Transport", S + "Transport = carrier-pigeon\n", "2:13: expected multicast or unicast, found \"carrier-pigeon\""],
  ["EventPreciseTimeStamp with a value", S + "EventPreciseTimeStamp = yes\n", "2:23: expected the next setting (EventPreciseTimeStamp takes no value), found \"=\""],
  ["DaemonUser too long", S + "DaemonUser = " + "u".repeat(33) + "\n", "2:14: expected a user name of at most 32 characters, found \"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu\""],
  ["PersonalWindow above Window", S + "Window = 50\nPersonalWindow = 60\n", "3:1: expected PersonalWindow at most Window (50), found PersonalWindow = 60"],
  ["AcceleratedWindow above PersonalWindow", S + "AcceleratedWindow = 25\n", "2:1: expected AcceleratedWindow at most PersonalWindow (20), found AcceleratedWindow = 25"],
  ["HurryTimeout not below TokenTimeout", S + "TokenTimeout = 1000\nHurryTimeout = 1000\n", "3:1: expected HurryTimeout below TokenTimeout (1000 ms), found HurryTimeout = 1000"],
  ["TokenTimeout below HurryTimeout", S + "TokenTimeout = 400\n", "2:1: expected TokenTimeout above HurryTimeout (500 ms), found TokenTimeout = 400"],
  ["TokenRetransmitTimeout too long", S + "TokenRetransmitTimeout = 400\n", "2:1: expected TokenRetransmitTimeout below TokenTimeout / 4 (312.5 ms), found TokenRetransmitTimeout = 400"],
  ["JoinTimeout not below GatherTimeout", S + "JoinTimeout = 2000\n", "2:1: expected JoinTimeout below GatherTimeout (1250 ms), found JoinTimeout = 2000"],
  ["ProbeInterval above LookupTimeout", S + "LookupTimeout = 500\n", "2:1: expected LookupTimeout at least ProbeInterval (1000 ms), found LookupTimeout = 500"],
  ["MaxPacketSize too small", S + "MaxPacketSize = 100\n", "2:17: expected a whole number of bytes from 548 to 65507, found \"100\""],
  ["MaxPacketSize above a datagram", S + "MaxPacketSize = 70000\n", "2:17: expected a whole number of bytes from 548 to 65507, found \"70000\""],
  ["MaxMessageSize above 64 MiB", S + "MaxMessageSize = 100000000\n", "2:18: expected a whole number of bytes from 1 to 67108864, found \"100000000\""],
  ["MaxSeqGap too big for the commit token", S + "MaxSeqGap = 1000000\n", "2:1: expected MaxSeqGap + 2 × Window small enough for the commit token of 1 daemon to fit in 65507 bytes (it would take 125164), found MaxSeqGap = 1000000"],
  ["IdleRotationsBeforeHold zero", S + "IdleRotationsBeforeHold = 0\n", "2:27: expected a whole number from 1 to 255, found \"0\""],
  ["too many daemons", "Spread_Segment 10.0.0.255 {\n" + Array.from({ length: 129 }, (_, i) => `  d${i} 10.0.${i >> 8}.${(i & 255) + 1}\n`).join("") + "}\n", "130:3: expected at most 128 daemons in a configuration, found daemon 129, \"d128\""],
  ["Spread_Segment inside a segment", "Spread_Segment 10.0.0.255 {\n  a 10.0.0.1\nSpread_Segment 10.1.0.255 { b 10.1.0.1 }\n", "3:1: expected \"}\" to close the segment before the next Spread_Segment, found \"Spread_Segment\""],
]

const errorOf = (text: string): ConfigError => {
  try {
    parseConfig(text, "spread.conf")
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error("the file was accepted")
}

describe("malformed files give the expected message and position", () => {
  it("has at least 40 cases", () => {
    expect(MALFORMED.length).toBeGreaterThanOrEqual(40)
  })

  it.each(MALFORMED)("%s", (_, text, expected) => {
    const error = errorOf(text)
    const [, line, column] = /^(\d+):(\d+): /.exec(expected)!
    expect(error.message).toBe(`spread.conf:${expected}`)
    expect({ file: error.file, line: error.line, column: error.column }).toEqual({
      file: "spread.conf",
      line: Number(line),
      column: Number(column)
    })
    expect(error.message).toBe(`spread.conf:${line}:${column}: expected ${error.expected}, found ${error.found}`)
  })
})
