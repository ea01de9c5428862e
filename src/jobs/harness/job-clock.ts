/** The clock and randomness jobs use, as a port so tests can replace them. */

export interface JobClock {
  /** Milliseconds since an arbitrary origin; only differences are meaningful. */
  now(): number
  /** Resolves after `ms`, or at once when `signal` is (or becomes) aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
  /** A uniform number in [0, 1), for jitter. */
  random(): number
}

export const systemClock: JobClock = {
  now: () => performance.now(),
  random: () => Math.random(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (ms <= 0 || signal?.aborted) return resolve()
      const done = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal?.addEventListener('abort', done, { once: true })
    }),
}
