/**
 * Background comparisons with a bound on how many run at once: one over the
 * bound is dropped and reported (never queued without limit), so a slow or
 * saturated database cannot make comparisons pile up in memory or delay
 * callers. `drain` waits for those in flight (tests, shutdown).
 */
export class ComparisonQueue {
  readonly #maxInFlight: number
  readonly #inFlight = new Set<Promise<void>>()

  constructor(maxInFlight: number) {
    this.#maxInFlight = maxInFlight
  }

  /** Comparisons running now. */
  get size(): number {
    return this.#inFlight.size
  }

  /** Starts `work` unless `maxInFlight` already run; returns false when it was dropped. `work` must not reject. */
  submit(work: () => Promise<void>): boolean {
    if (this.#inFlight.size >= this.#maxInFlight) return false
    const running = work().finally(() => {
      this.#inFlight.delete(running)
    })
    this.#inFlight.add(running)
    return true
  }

  /** Waits until every comparison started so far (and any they started) has finished. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }
}
