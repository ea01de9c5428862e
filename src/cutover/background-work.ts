/**
 * The process's side work that callers do not wait for (divergence rows,
 * background writes): each failure logged, never thrown, and all of it kept
 * until it settles so that `flush` and `close` can wait for it.
 */
export class BackgroundWork {
  readonly #pending = new Set<Promise<unknown>>()

  /** A DAL's `background` callback: the work is kept until it settles, and `onError` hears its failure. */
  tracker(onError: (error: unknown) => void): (work: Promise<unknown>) => void {
    return (work) => {
      const tracked = work.catch(onError)
      this.#pending.add(tracked)
      void tracked.finally(() => this.#pending.delete(tracked))
    }
  }

  /** The work not settled yet. */
  pending(): Promise<unknown>[] {
    return [...this.#pending]
  }
}
