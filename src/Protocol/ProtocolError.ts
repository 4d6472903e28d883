import * as Data from "effect/Data"

/**
 * Bytes that break the protocol: a malformed header, an impossible length, an unknown message
 * kind. Codecs throw only this; callers turn it into the session's end (daemon) or a
 * `CONNECTION_CLOSED`-class failure (client, client-protocol §12 item 7).
 */
export class ProtocolError extends Data.TaggedError("ProtocolError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}

export const protocolError = (reason: string): never => {
  throw new ProtocolError({ reason })
}
