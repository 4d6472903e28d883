/**
 * The ring engine's named timers on the real clock (daemon-protocol §3.2 `SetTimer` /
 * `CancelTimer`, §3.3 item 4: never fire early). One instance per name; a fire carries the
 * generation it was set with, and the engine ignores stale ones.
 */
import type { TimerName } from "../Membership/Ring/Types.js"

type Handle = { readonly due: true } | { readonly timeout: NodeJS.Timeout }

export class RingTimers {
  private readonly armed = new Map<TimerName, Handle>()

  constructor(private readonly fire: (name: TimerName, generation: number) => void) {}

  /**
   * A zero delay (the self hand-off of a ring of one, §6.11.1) fires as soon as the input being
   * handled is done, in a microtask: a lone daemon's token visit then orders what a socket read
   * brought in the same turn. (`setTimeout(…, 0)` would wait at least 1 ms per rotation and
   * `setImmediate` a whole turn.) It cannot loop for ever: an idle ring holds its token
   * (§5.12) on a real timer after `IdleRotationsBeforeHold` rotations.
   */
  set(name: TimerName, delay: number, generation: number): void {
    this.cancel(name)
    const run = (): void => {
      if (this.armed.get(name) !== handle) return
      this.armed.delete(name)
      this.fire(name, generation)
    }
    // A fresh handle per set, so a microtask of an earlier set of the same name finds it replaced.
    const handle: Handle = delay <= 0 ? { due: true } : { timeout: setTimeout(run, delay) }
    this.armed.set(name, handle)
    if (delay <= 0) queueMicrotask(run)
  }

  cancel(name: TimerName): void {
    const h = this.armed.get(name)
    if (h === undefined) return
    this.armed.delete(name)
    if ("timeout" in h) clearTimeout(h.timeout)
  }

  clear(): void {
    for (const name of [...this.armed.keys()]) this.cancel(name)
  }
}
