/** The worker loops that run one job's chunks in this process. */
import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { withClient } from '../../db/with-client.js'
import { RowRateThrottle } from '../throttles/row-rate-throttle.js'
import { chunkBegin } from './chunk-begin.js'
import { claimChunk, openChunks, type LeaseHolder } from './chunk-lease.js'
import type { ChunkRunnerOptions } from './chunk-runner-options.js'
import { ThrottleHold } from './throttle-hold.js'
import { workChunk, type ChunkRun } from './work-chunk.js'

/** Chunks being worked on by this process's workers, and idle workers waiting for one of them to settle. */
class InFlightChunks {
  count = 0
  readonly #waiting = new Set<() => void>()

  settled(): void {
    for (const wake of this.#waiting) wake()
    this.#waiting.clear()
  }

  /** Resolves when a sibling's chunk settles; never when no sibling works one. */
  nextSettled(): Promise<void> {
    return this.count > 0
      ? new Promise<void>((resolve) => this.#waiting.add(resolve))
      : new Promise<void>(() => undefined)
  }
}

/**
 * Runs N concurrent worker loops: each claims a lease, does the chunk's work
 * and completes it in one short transaction (lock timeouts retried with
 * backoff and jitter), adapts the chunk size, and throttles. Resolves when
 * every chunk of the job is done (or the job stopped); rejects with the first
 * failure or the abort reason.
 */
export async function runChunks(options: ChunkRunnerOptions): Promise<void> {
  const { clock, logger, sql } = options
  const stop = new AbortController()
  let failure: unknown
  const onAbort = (): void => stop.abort(options.signal?.reason)
  if (options.signal?.aborted) onAbort()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  const run: ChunkRun = {
    options,
    stop: stop.signal,
    throttle: new RowRateThrottle(clock, options.maxRowsPerSecond),
    begin: chunkBegin(options.lockTimeoutMs, options.sessionSettings),
    chunkRows: options.chunkRows,
  }
  const hold = new ThrottleHold(options, stop.signal)
  const tag = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  // Looking for expired leases scans the job's chunks, so it is done at start,
  // when the range is used up, and otherwise at most twice per lease time.
  const reclaimEveryMs = Math.max(1000, options.leaseMs / 2)
  let nextReclaimAt = 0
  const inFlight = new InFlightChunks()
  async function waitForOpenChunks(msToExpiry: number | null): Promise<void> {
    const done = new AbortController()
    // A sibling here wakes us when its chunk settles; a chunk leased elsewhere may expire and be ours to take over.
    await Promise.race([
      inFlight.nextSettled(),
      clock.sleep(Math.min(250, Math.max(50, (msToExpiry ?? 0) + 10)), AbortSignal.any([stop.signal, done.signal])),
    ])
    done.abort()
  }
  const fields = { migration: options.migration, job: options.kind, jobId: options.jobId }

  async function worker(index: number): Promise<void> {
    const holder: LeaseHolder = {
      jobId: options.jobId,
      worker: `${tag}/${index}`,
      leaseMs: options.leaseMs,
      sql,
      keys: options.keys,
    }
    await withClient(options.pool, async (client) => {
      while (!stop.signal.aborted) {
        await hold.holdWhileThrottled(client)
        if (stop.signal.aborted) break
        const tryExpired = clock.now() >= nextReclaimAt
        const claim = await claimChunk(client, holder, { tryExpired })
        if (claim.kind === 'chunk') {
          if (claim.chunk.attempts > 1) {
            logger.warn(
              { ...fields, chunk: claim.chunk.chunkNo, attempts: claim.chunk.attempts },
              `${options.kind} chunk ${claim.chunk.chunkNo} of ${options.migration} taken over (attempt ${claim.chunk.attempts}): the worker that held it died or gave it back`,
            )
          } else if (tryExpired) {
            nextReclaimAt = clock.now() + reclaimEveryMs
          }
          inFlight.count++
          try {
            await workChunk(run, client, holder, claim.chunk)
          } finally {
            inFlight.count--
            inFlight.settled()
          }
          continue
        }
        if (claim.kind === 'stopped') return
        const open = await openChunks(client, holder)
        if (open.open === 0) return
        // Chunks still leased by workers here or elsewhere: wait for them, and take over any whose lease expires.
        nextReclaimAt = 0
        await waitForOpenChunks(open.msToExpiry)
      }
    })
  }

  try {
    await Promise.all(
      Array.from({ length: Math.max(1, options.workers) }, (_, i) =>
        worker(i).catch((error: unknown) => {
          failure ??= error
          stop.abort(error)
        }),
      ),
    )
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
  if (failure !== undefined) throw failure
  if (options.signal?.aborted) throw options.signal.reason
}
