/**
 * The ring engine's named timers on the real clock (daemon-protocol §3.2 `SetTimer` /
 * `CancelTimer`, §3.3 item 4: never fire early). One instance per name; a fire carries the
 * generation it was set with, and the engine ignores stale ones.
 */
import type { TimerName } from "../Membership/Ring/Types.js"

type Handle = { readonly immediate: NodeJS.Immediate } | { readonly timeout: NodeJS.Timeout }

export class RingTimers {
  private readonly armed = new Map<TimerName, Handle>()

  constructor(private readonly fire: (name: TimerName, generation: number) => void) {}

  /**
   * A zero delay (the self hand-off of a ring of one, §6.11.1) runs on the next turn through
   * `setImmediate`: `setTimeout(…, 0)` would wait at least 1 ms per token rotation.
   */
  set(name: TimerName, delay: number, generation: number): void {
    this.cancel(name)
    const run = (): void => {
      this.armed.delete(name)
      this.fire(name, generation)
    }
    this.armed.set(name, delay <= 0 ? { immediate: setImmediate(run) } : { timeout: setTimeout(run, delay) })
  }

  cancel(name: TimerName): void {
    const h = this.armed.get(name)
    if (h === undefined) return
    this.armed.delete(name)
    if ("immediate" in h) clearImmediate(h.immediate)
    else clearTimeout(h.timeout)
  }

  clear(): void {
    for (const name of [...this.armed.keys()]) this.cancel(name)
  }
}
