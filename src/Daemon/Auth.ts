/**
 * Authentication methods and the access policy of the handshake (client-protocol §3.4–§3.6).
 * Only `NULL` exists today; `IP` and `PWORD` plug in as further {@link AuthMethod}s.
 */

export interface AuthMethod {
  readonly name: string
  /** Whether this method lets the session in (NULL: always). */
  readonly authenticate: () => boolean
}

export interface AuthPolicy {
  /** Enabled methods in registration order: the auth list (B) the daemon sends. */
  readonly allowed: ReadonlyArray<string>
  /** Methods run even when the client did not ask for them (`RequiredAuthMethods`). */
  readonly required: ReadonlyArray<string>
}

const METHODS: ReadonlyMap<string, AuthMethod> = new Map([["NULL", { name: "NULL", authenticate: () => true }]])

export const defaultAuthPolicy: AuthPolicy = { allowed: ["NULL"], required: [] }

/** Every method name the daemon knows how to run. */
export const knownAuthMethods: ReadonlyArray<string> = [...METHODS.keys()]

/**
 * Decides (C)/(D): every requested method must be enabled; the requested ones plus any required
 * ones are run; an empty set, an unknown method or a failure denies. Returns "accept" or why not.
 */
export const chooseAuthMethods = (policy: AuthPolicy, requested: ReadonlyArray<string>): "accept" | string => {
  const disabled = requested.find((m) => !policy.allowed.includes(m))
  if (disabled !== undefined) return `authentication method "${disabled}" is not enabled`
  const run = [...requested, ...policy.required.filter((m) => !requested.includes(m))]
  if (run.length === 0) return "no authentication method was chosen"
  for (const name of run) {
    const method = METHODS.get(name)
    if (method === undefined) return `authentication method "${name}" is not available in this daemon`
    if (!method.authenticate()) return `authentication method "${name}" denied the session`
  }
  return "accept"
}
