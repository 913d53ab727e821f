interface Slot {
  readonly key: string
  at: number
  /** Insertion order: keys due at the same time come out first in, first out. */
  seq: number
}

/**
 * Keys (entry ids) ordered by when they are due: a binary min-heap with an index from key to slot,
 * so adding a key, moving it to another time and removing it each cost O(log n), and the keys due
 * by some instant come out in O(k log n) for k of them, whatever the total. A key is in the queue at
 * most once.
 */
export class DueQueue {
  readonly #heap: Slot[] = []
  readonly #index = new Map<string, number>()
  #seq = 0

  get size(): number {
    return this.#heap.length
  }

  has(key: string): boolean {
    return this.#index.has(key)
  }

  /** When `key` is due (ms since the epoch), or undefined when it is not queued. */
  dueAt(key: string): number | undefined {
    const i = this.#index.get(key)
    return i === undefined ? undefined : this.#heap[i]!.at
  }

  /** The earliest due time, or undefined when the queue is empty. */
  peekAt(): number | undefined {
    return this.#heap[0]?.at
  }

  /** Queues `key` at `at`, or moves it there when it is queued already. */
  set(key: string, at: number): void {
    if (Number.isNaN(at)) throw new TypeError(`due time of ${key} is not a number`)
    const i = this.#index.get(key)
    if (i === undefined) {
      this.#heap.push({ key, at, seq: this.#seq++ })
      this.#index.set(key, this.#heap.length - 1)
      this.#up(this.#heap.length - 1)
      return
    }
    const slot = this.#heap[i]!
    if (slot.at === at) return
    const earlier = at < slot.at
    slot.at = at
    slot.seq = this.#seq++
    if (earlier) this.#up(i)
    else this.#down(i)
  }

  /** Removes `key`; returns whether it was queued. */
  delete(key: string): boolean {
    const i = this.#index.get(key)
    if (i === undefined) return false
    this.#removeAt(i)
    return true
  }

  /** Removes and returns the keys due at or before `nowMs`, earliest first. */
  popDue(nowMs: number): string[] {
    const due: string[] = []
    while (this.#heap.length > 0 && this.#heap[0]!.at <= nowMs) due.push(this.#removeAt(0).key)
    return due
  }

  #removeAt(i: number): Slot {
    const heap = this.#heap
    const removed = heap[i]!
    const last = heap.pop()!
    this.#index.delete(removed.key)
    if (i < heap.length) {
      heap[i] = last
      this.#index.set(last.key, i)
      this.#up(i)
      this.#down(this.#index.get(last.key)!)
    }
    return removed
  }

  #less(a: Slot, b: Slot): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  #up(i: number): void {
    const heap = this.#heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#less(heap[i]!, heap[parent]!)) return
      this.#swap(i, parent)
      i = parent
    }
  }

  #down(i: number): void {
    const heap = this.#heap
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < heap.length && this.#less(heap[left]!, heap[smallest]!)) smallest = left
      if (right < heap.length && this.#less(heap[right]!, heap[smallest]!)) smallest = right
      if (smallest === i) return
      this.#swap(i, smallest)
      i = smallest
    }
  }

  #swap(i: number, j: number): void {
    const heap = this.#heap
    const a = heap[i]!
    const b = heap[j]!
    heap[i] = b
    heap[j] = a
    this.#index.set(b.key, i)
    this.#index.set(a.key, j)
  }
}
