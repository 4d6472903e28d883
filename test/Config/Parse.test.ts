import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  configWarnings,
  DEFAULT_TIMESTAMP_FORMAT,
  defaultConfig,
  expandEventLogFile,
  LAN_TIMEOUTS,
  parseConfig,
  SpreadConfig,
  WAN_TIMEOUTS
} from "../../src/Config/index.ts"

/** The file of our test vectors (shared/vectors/*.json, `spread_conf`). */
const VECTOR_CONF = `Spread_Segment 127.0.0.255:25100 {
    node1 127.0.0.1
}
RuntimeDir = /var/run/spread
DaemonUser = nobody
DaemonGroup = nogroup
SocketPortReuse = ON
`

describe("parseConfig: the test-vector file", () => {
  const config = parseConfig(VECTOR_CONF, "spread.conf")

  it("has one segment with one daemon, reached by unicast", () => {
    expect(config.segments).toHaveLength(1)
    const [segment] = config.segments
    expect(segment!.addresses).toEqual(["127.0.0.255"])
    expect(segment!.port).toBe(25100)
    expect(segment!.kind).toBe("unicast-only")
    expect(config.daemons).toEqual([
      { name: "node1", address: "127.0.0.1", id: 0x1d5c9b95, virtualId: null, rank: 0, segment: 0, port: 25100, interfaces: [] }
    ])
    expect(segment!.daemons).toEqual(config.daemons)
  })

  it("keeps the host settings", () => {
    expect(config.host).toEqual({
      runtimeDir: "/var/run/spread",
      daemonUser: "nobody",
      daemonGroup: "nogroup",
      socketPortReuse: "on",
      ignoreMulticastJoinErrors: false
    })
  })

  it("applies the LAN defaults of §12", () => {
    expect(config.ipVersion).toBe("IPv4")
    expect(config.wideAreaNetwork).toBe(false)
    expect(config.acceleratedRing).toBe(true)
    expect(config.transport).toBe("multicast")
    expect(config.windows).toEqual({ window: 160, personalWindow: 20, acceleratedWindow: 15 })
    expect(config.timeouts).toEqual(LAN_TIMEOUTS)
    expect(config.limits).toEqual({
      maxPacketSize: 1472,
      maxTokenSize: 1472,
      maxMessageSize: 1048576,
      maxSeqGap: 1600,
      idleRotationsBeforeHold: 2,
      maxSessionMessages: 1000,
      maxSessionBytes: 64 * 1024 * 1024,
      maxGroupsStateSize: 16 * 1024 * 1024
    })
    expect(config.access).toEqual({
      allowedAuthMethods: ["NULL"],
      requiredAuthMethods: [],
      accessControlPolicy: "PERMIT",
      dangerousMonitor: false,
      monitorKey: null
    })
    expect(config.logging).toEqual({
      debugFlags: ["EXIT", "PRINT"],
      eventPriority: "info",
      eventLogFile: null,
      eventTimeStamp: null,
      eventPreciseTimeStamp: false
    })
    expect(configWarnings(config)).toEqual([])
  })

  it("is a value of the SpreadConfig schema", () => {
    expect(Schema.is(SpreadConfig)(config)).toBe(true)
    expect(Schema.is(SpreadConfig)({ ...config, ipVersion: "IPv5" })).toBe(false)
  })
})

/** Our equivalent of the sample's multi-segment example: every daemon-entry form. */
const SITE_CONF = `
# Two machine rooms and a lone host.
Spread_Segment  192.168.1.255:4804 {      # broadcast, explicit port
    alpha   192.168.1.10
    beta    192.168.1.11    VirtualID = 1001
    192.168.1.12                          # address only: the address is the name
}

Spread_Segment 225.1.2.3 {                # multicast, default port
    gamma 10.0.0.1 ; delta 10.0.0.2 ;
    epsilon 10.0.0.3 {
        D 10.0.0.3
        C M 192.168.50.3
    }
    zeta 10.0.0.4 {
        0.0.0.0
    }
    eta 10.0.0.5 { D C 10.0.0.5  M 127.0.0.1 } ;
}

Spread_Segment 172.16.0.9:4900 {
    loner 172.16.0.9
}
`

describe("parseConfig: segments and daemon entries", () => {
  const config = parseConfig(SITE_CONF, "site.conf")

  it("reads segment addresses, ports and kinds", () => {
    expect(config.segments.map((s) => [s.addresses, s.port, s.kind])).toEqual([
      [["192.168.1.255"], 4804, "broadcast"],
      [["225.1.2.3"], 4803, "multicast"],
      [["172.16.0.9"], 4900, "unicast-only"]
    ])
  })

  it("ranks daemons in file order and gives each its segment's port", () => {
    expect(config.daemons.map((d) => [d.rank, d.name, d.address, d.segment, d.port])).toEqual([
      [0, "alpha", "192.168.1.10", 0, 4804],
      [1, "beta", "192.168.1.11", 0, 4804],
      [2, "192.168.1.12", "192.168.1.12", 0, 4804],
      [3, "gamma", "10.0.0.1", 1, 4803],
      [4, "delta", "10.0.0.2", 1, 4803],
      [5, "epsilon", "10.0.0.3", 1, 4803],
      [6, "zeta", "10.0.0.4", 1, 4803],
      [7, "eta", "10.0.0.5", 1, 4803],
      [8, "loner", "172.16.0.9", 2, 4900]
    ])
    expect(config.daemons[1]!.id).toBe(1001)
  })

  it("reads interface stanzas; no letters means all roles", () => {
    expect(config.daemons[0]!.interfaces).toEqual([])
    expect(config.daemons[5]!.interfaces).toEqual([
      { roles: ["D"], address: "10.0.0.3" },
      { roles: ["C", "M"], address: "192.168.50.3" }
    ])
    expect(config.daemons[6]!.interfaces).toEqual([{ roles: ["D", "C", "M"], address: "0.0.0.0" }])
    expect(config.daemons[7]!.interfaces).toEqual([
      { roles: ["D", "C"], address: "10.0.0.5" },
      { roles: ["M"], address: "127.0.0.1" }
    ])
  })

  it("selects the WAN profile for more than one segment, and the original ring with it", () => {
    expect(config.wideAreaNetwork).toBe(true)
    expect(config.acceleratedRing).toBe(false)
    expect(config.timeouts).toEqual(WAN_TIMEOUTS)
  })

  it("keeps name-only entries for resolveConfig, and a name followed by a name is two daemons", () => {
    const c = parseConfig("Spread_Segment 10.0.0.255 {\n  hostA hostB\n  hostC; 10.0.0.9\n}\n", "names.conf")
    expect(c.daemons.map((d) => [d.name, d.address])).toEqual([
      ["hostA", null],
      ["hostB", null],
      ["hostC", null],
      ["10.0.0.9", "10.0.0.9"]
    ])
  })

  it("reads a quoted daemon name and extra segment addresses", () => {
    const c = parseConfig("Spread_Segment 10.0.0.255:5000 10.1.0.255 {\n  '10.0.0.1' 10.0.0.2\n}\n", "q.conf")
    expect(c.segments[0]!.addresses).toEqual(["10.0.0.255", "10.1.0.255"])
    expect(c.daemons[0]!.name).toBe("10.0.0.1")
    expect(c.daemons[0]!.address).toBe("10.0.0.2")
  })

  it("uses the default port for port 0, as Spread does", () => {
    expect(parseConfig("Spread_Segment 10.0.0.255:0 { a 10.0.0.1 }", "p.conf").segments[0]!.port).toBe(4803)
  })
})

describe("parseConfig: IPv6", () => {
  const config = parseConfig(
    `ActiveIPVersion = IPv6
Spread_Segment [FF02::1:2]:4803 {
    v6a fe80::1%eth0
    v6b 2001:DB8:0:0::2
    2001:db8::3
}
Spread_Segment ff05::1234 {
    v6c 2001:db8::4 { D 2001:db8::4  C fe80::4%eth1  M :: }
}
`,
    "v6.conf"
  )

  it("reads bracketed addresses with ports, scopes, and canonical forms", () => {
    expect(config.ipVersion).toBe("IPv6")
    expect(config.segments.map((s) => [s.addresses, s.port, s.kind])).toEqual([
      [["ff02::1:2"], 4803, "multicast"],
      [["ff05::1234"], 4803, "unicast-only"]
    ])
    expect(config.daemons.map((d) => [d.name, d.address])).toEqual([
      ["v6a", "fe80::1%eth0"],
      ["v6b", "2001:db8::2"],
      ["2001:db8::3", "2001:db8::3"],
      ["v6c", "2001:db8::4"]
    ])
    expect(config.daemons[3]!.interfaces).toEqual([
      { roles: ["D"], address: "2001:db8::4" },
      { roles: ["C"], address: "fe80::4%eth1" },
      { roles: ["M"], address: "::" }
    ])
  })

  it("names an address-only entry by its address without the scope, cut to 19 characters", () => {
    const c = parseConfig("Spread_Segment ff02::1 {\n  2001:db8:aaaa:bbbb:cccc::1%eth0\n  fe80::2%eth0\n}\n", "long.conf")
    expect(c.daemons.map((d) => d.name)).toEqual(["2001:db8:aaaa:bbbb:", "fe80::2"])
    expect(configWarnings(c).map((w) => [w.line, w.column])).toEqual([[2, 3]])
  })
})

/** Every setting, in unusual case and spacing, as an operator might write them. */
const ALL_SETTINGS_CONF = `
activeipversion=IPv4
WideAreaNetwork = no
ACCELERATEDRING = Yes
Transport = UNICAST
Window = 300
PersonalWindow = 30
AcceleratedWindow = 10
TokenTimeout = 2000
HurryTimeout = 600
JoinTimeout = 300
GatherTimeout = 1500
FormTimeout = 1400
LookupTimeout = 20000
TokenRetransmitTimeout = 150
ProbeInterval = 500
IdleRotationsBeforeHold = 3
MaxPacketSize = 9000
MaxTokenSize = 8000
MaxMessageSize = 2097152
MaxSeqGap = 2000
MaxSessionMessages = 5000
MaxSessionBytes = 1000000
MaxGroupsStateSize = 2000000
DebugFlags = { ALL !DATA_LINK !MEMORY }
EventPriority = pDEBUG
EventLogFile = "/var/log/spread %h.log"
EventTimeStamp = "[%Y-%m-%d %H:%M:%S]"
EventPreciseTimeStamp
DangerousMonitor = true
SocketPortReuse = auto
RuntimeDir = '/srv/spread state'
DaemonUser = spread
DaemonGroup = spread
AllowedAuthMethods = "IP NULL"
RequiredAuthMethods = IP
AccessControlPolicy = permit
ExcludeSegAddrsFromHash = on
IgnoreMulticastJoinErrors = TRUE
MonitorKey = "s3cret key"
Spread_Segment 10.0.0.255 { a 10.0.0.1  b 10.0.0.2 }
`

describe("parseConfig: every setting", () => {
  const config = parseConfig(ALL_SETTINGS_CONF, "all.conf")

  it("reads keywords and word values in any case", () => {
    expect(config.ipVersion).toBe("IPv4")
    expect(config.wideAreaNetwork).toBe(false)
    expect(config.acceleratedRing).toBe(true)
    expect(config.transport).toBe("unicast")
    expect(config.segments[0]!.kind).toBe("unicast-only")
    expect(config.excludeSegAddrsFromHash).toBe(true)
  })

  it("reads windows, timers and limits", () => {
    expect(config.windows).toEqual({ window: 300, personalWindow: 30, acceleratedWindow: 10 })
    expect(config.timeouts).toEqual({
      tokenLoss: 2000,
      tokenRetransmit: 150,
      tokenHold: 600,
      join: 300,
      consensus: 1500,
      commit: 1400,
      probeInterval: 500,
      probeMax: 20000
    })
    expect(config.limits).toEqual({
      maxPacketSize: 9000,
      maxTokenSize: 8000,
      maxMessageSize: 2097152,
      maxSeqGap: 2000,
      idleRotationsBeforeHold: 3,
      maxSessionMessages: 5000,
      maxSessionBytes: 1000000,
      maxGroupsStateSize: 2000000
    })
  })

  it("reads logging settings; DebugFlags applies ! in order", () => {
    expect(config.logging).toEqual({
      debugFlags: [
        "EXIT", "PRINT", "DEBUG", "NETWORK", "PROTOCOL", "SESSION", "CONFIGURATION", "MEMBERSHIP",
        "FLOW_CONTROL", "STATUS", "EVENTS", "GROUPS", "SKIPLIST", "ACM", "SECURITY"
      ],
      eventPriority: "debug",
      eventLogFile: "/var/log/spread %h.log",
      eventTimeStamp: "[%Y-%m-%d %H:%M:%S]",
      eventPreciseTimeStamp: true
    })
    expect(expandEventLogFile(config.logging.eventLogFile!, "m1")).toBe("/var/log/spread m1.log")
    expect(expandEventLogFile("a_%H_%h", "m1")).toBe("a_m1_m1")
  })

  it("reads access and host settings", () => {
    expect(config.access).toEqual({
      allowedAuthMethods: ["NULL", "IP"],
      requiredAuthMethods: ["IP"],
      accessControlPolicy: "PERMIT",
      dangerousMonitor: true,
      monitorKey: "s3cret key"
    })
    expect(config.host).toEqual({
      runtimeDir: "/srv/spread state",
      daemonUser: "spread",
      daemonGroup: "spread",
      socketPortReuse: "auto",
      ignoreMulticastJoinErrors: true
    })
    expect(configWarnings(config)).toEqual([])
  })
})

describe("parseConfig: defaults that follow from other settings", () => {
  const seg = "Spread_Segment 10.0.0.255 { a 10.0.0.1 b 10.0.0.2 }\n"

  it("WideAreaNetwork = true on one segment selects the WAN profile and the original ring", () => {
    const c = parseConfig(`WideAreaNetwork = true\n${seg}`, "wan.conf")
    expect(c.timeouts).toEqual(WAN_TIMEOUTS)
    expect(c.acceleratedRing).toBe(false)
  })

  it("an explicit AcceleratedRing wins over the profile", () => {
    expect(parseConfig(`WideAreaNetwork = yes\nAcceleratedRing = true\n${seg}`, "x.conf").acceleratedRing).toBe(true)
  })

  it("any subset of timeouts may be set; the rest come from the profile (§9.4)", () => {
    const c = parseConfig(`TokenTimeout = 3000\nJoinTimeout = 100\n${seg}`, "subset.conf")
    expect(c.timeouts).toEqual({ ...LAN_TIMEOUTS, tokenLoss: 3000, join: 100 })
  })

  it("MaxTokenSize follows MaxPacketSize", () => {
    expect(parseConfig(`MaxPacketSize = 1200\n${seg}`, "t.conf").limits.maxTokenSize).toBe(1200)
  })

  it("a bare EventTimeStamp uses Spread's format", () => {
    expect(parseConfig(`EventTimeStamp\n${seg}`, "ts.conf").logging.eventTimeStamp).toBe(DEFAULT_TIMESTAMP_FORMAT)
  })

  it("setting either auth list disables NULL; RequiredAuthMethods alone enables nothing", () => {
    const c = parseConfig(`RequiredAuthMethods = IP\n${seg}`, "auth.conf")
    expect(c.access.allowedAuthMethods).toEqual([])
    expect(c.access.requiredAuthMethods).toEqual(["IP"])
    expect(configWarnings(c).map((w) => w.text)).toEqual([
      "no authentication method is allowed: every client will be refused",
      "required methods IP are not allowed: every client will be refused"
    ])
  })

  it("auth lists written twice add up", () => {
    const c = parseConfig(`AllowedAuthMethods = IP\nAllowedAuthMethods = NULL\n${seg}`, "auth2.conf")
    expect(c.access.allowedAuthMethods).toEqual(["NULL", "IP"])
  })

  it("DebugFlags starts from nothing; NONE adds nothing, as Spread's AlarmBitComp", () => {
    expect(parseConfig(`DebugFlags = { }\n${seg}`, "d.conf").logging.debugFlags).toEqual([])
    expect(parseConfig(`DebugFlags = { NONE }\n${seg}`, "d.conf").logging.debugFlags).toEqual([])
    expect(parseConfig(`DebugFlags = { ALL NONE }\n${seg}`, "d.conf").logging.debugFlags).toHaveLength(17)
    expect(parseConfig(`DebugFlags = { NONE PRINT }\n${seg}`, "d.conf").logging.debugFlags).toEqual(["PRINT"])
  })
})

describe("parseConfig: warnings", () => {
  it("accepts Spread's AliveTimeout, SegTimeout and RepTimeout and says they are ignored", () => {
    const c = parseConfig(
      "AliveTimeout = 250\nSegTimeout = 500\nRepTimeout = 625\nSpread_Segment 10.0.0.255 { a 10.0.0.1 }",
      "spread.conf"
    )
    expect(configWarnings(c).map((w) => [w.line, w.text.split(" ")[0]])).toEqual([
      [1, "AliveTimeout"],
      [2, "SegTimeout"],
      [3, "RepTimeout"]
    ])
  })

  it("a setting written twice keeps the later value and warns", () => {
    const c = parseConfig("Window = 100\nWindow = 120\nSpread_Segment 10.0.0.255 { a 10.0.0.1 }", "w.conf")
    expect(c.windows.window).toBe(120)
    expect(configWarnings(c)).toEqual([
      { file: "w.conf", line: 2, column: 1, text: "Window is set again; this value replaces the one of line 1" }
    ])
  })

  it("a daemon name longer than 19 characters is cut, as Spread does", () => {
    const c = parseConfig("Spread_Segment 10.0.0.255 { a_very_long_daemon_name_indeed 10.0.0.1 }", "n.conf")
    expect(c.daemons[0]!.name).toBe("a_very_long_daemon_")
    expect(configWarnings(c)).toHaveLength(1)
  })
})

describe("defaultConfig", () => {
  it("is one daemon on 127.0.0.1, named after the host, on port 4803", () => {
    const c = defaultConfig({ name: "my-workstation.example.com" })
    expect(c.daemons).toEqual([
      {
        name: "my-workstation.exam",
        address: "127.0.0.1",
        id: c.daemons[0]!.id,
        virtualId: null,
        rank: 0,
        segment: 0,
        port: 4803,
        interfaces: []
      }
    ])
    expect(c.segments[0]!.addresses).toEqual(["127.0.0.255"])
    expect(c.timeouts).toEqual(LAN_TIMEOUTS)
    expect(configWarnings(c)).toEqual([])
  })

  it("takes a port", () => {
    expect(defaultConfig({ name: "node1", port: 24999 }).daemons[0]!.port).toBe(24999)
  })
})
