/** A binary min-heap on (time, insertion order): the simulator's event queue. */
export interface Timed {
  readonly at: number
  order: number
}

export class Heap<T extends Timed> {
  private readonly items: Array<T> = []
  private counter = 0

  get size(): number {
    return this.items.length
  }

  push(x: T): void {
    x.order = this.counter++
    const a = this.items
    a.push(x)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(a[i]!, a[p]!)) break
      ;[a[i], a[p]] = [a[p]!, a[i]!]
      i = p
    }
  }

  peek(): T | undefined {
    return this.items[0]
  }

  pop(): T | undefined {
    const a = this.items
    if (a.length === 0) return undefined
    const top = a[0]!
    const last = a.pop()!
    if (a.length > 0) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && less(a[l]!, a[m]!)) m = l
        if (r < a.length && less(a[r]!, a[m]!)) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m]!, a[i]!]
        i = m
      }
    }
    return top
  }
}

const less = (x: Timed, y: Timed): boolean => x.at < y.at || (x.at === y.at && x.order < y.order)
