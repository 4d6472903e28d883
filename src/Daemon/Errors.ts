import * as Data from "effect/Data"

/** A listener could not be opened (port in use, no permission, bad address). */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly address: string; readonly reason: string }> {
  override get message(): string {
    return `cannot listen on ${this.address}: ${this.reason}`
  }
}

/** A command-line flag is wrong. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason
  }
}
