/**
 * A guardrail's sliding window in O(1) per observation: for each side a ring
 * of per-second latency histograms (HdrHistogram, microseconds, 3 significant
 * digits) and a running histogram of the whole window that each second is
 * added to as it is recorded and subtracted from once it expires; and a
 * divergence count per second. A summary costs one percentile walk per side,
 * never a copy or a sort of the reads.
 */
import { build, type Histogram } from 'hdr-histogram-js'
import type { Side } from './phases.js'

/** What the guardrail judges: counts and nearest-rank p99s (seconds) of the window. */
export interface WindowSummary {
  readonly divergences: number
  readonly shadow: SideSummary
  readonly legacy: SideSummary
}

export interface SideSummary {
  readonly count: number
  /** NaN when count is 0. */
  readonly p99: number
}

/** The slice of hdr-histogram-js's JsHistogram used here beyond the Histogram interface. */
type Hdr = Histogram & { lowestEquivalentValue(value: number): number }

function histogram(): Hdr {
  // 1 µs … 60 s, growing past that; 3 digits: a value is kept within 0.1 %.
  return build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  }) as Hdr
}

/** The nearest-rank p99 in seconds: the lowest value of the bucket holding that rank (exact below 2,048 µs, within 0.1 % above). */
function p99Seconds(h: Hdr): number {
  if (h.totalCount === 0) return Number.NaN
  return h.lowestEquivalentValue(h.getValueAtPercentile(99)) / 1e6
}

class SideRing {
  readonly window = histogram()
  readonly #slots: Hdr[]
  /** The second each slot holds, or -1 once it was subtracted from the window. */
  readonly #seconds: Float64Array

  constructor(size: number) {
    this.#slots = Array.from({ length: size }, () => histogram())
    this.#seconds = new Float64Array(size).fill(-1)
  }

  record(second: number, micros: number): void {
    const i = second % this.#slots.length
    const slot = this.#slots[i] as Hdr
    if (this.#seconds[i] !== second) {
      this.#drop(i)
      this.#seconds[i] = second
    }
    slot.recordValue(micros)
    this.window.recordValue(micros)
  }

  /** Subtracts every slot older than `oldest` from the window. */
  expire(oldest: number): void {
    for (let i = 0; i < this.#slots.length; i++)
      if ((this.#seconds[i] as number) >= 0 && (this.#seconds[i] as number) < oldest) this.#drop(i)
  }

  clear(): void {
    for (let i = 0; i < this.#slots.length; i++) {
      ;(this.#slots[i] as Hdr).reset()
      this.#seconds[i] = -1
    }
    this.window.reset()
  }

  #drop(i: number): void {
    if ((this.#seconds[i] as number) < 0) return
    const slot = this.#slots[i] as Hdr
    this.window.subtract(slot)
    slot.reset()
    this.#seconds[i] = -1
  }
}

export class LatencyWindow {
  readonly #windowSeconds: number
  readonly #minSamples: number
  readonly #sides: Record<Side, SideRing>
  readonly #divergences: Int32Array
  readonly #divergenceSeconds: Float64Array
  /** Legacy's window as of the last summary in which legacy served at least minSamples reads. */
  readonly #legacyBaseline = histogram()

  constructor(windowSeconds: number, minSamples: number) {
    this.#windowSeconds = windowSeconds
    this.#minSamples = minSamples
    const size = windowSeconds + 1
    this.#sides = { legacy: new SideRing(size), shadow: new SideRing(size) }
    this.#divergences = new Int32Array(size)
    this.#divergenceSeconds = new Float64Array(size).fill(-1)
  }

  /** Records one read's latency at `atMs` (ms since the epoch). */
  observeRead(side: Side, seconds: number, atMs: number): void {
    this.#sides[side].record(Math.floor(atMs / 1000), Math.max(0, Math.round(seconds * 1e6)))
  }

  observeDivergence(atMs: number): void {
    const second = Math.floor(atMs / 1000)
    const i = second % this.#divergences.length
    if (this.#divergenceSeconds[i] !== second) {
      this.#divergenceSeconds[i] = second
      this.#divergences[i] = 0
    }
    this.#divergences[i] = (this.#divergences[i] as number) + 1
  }

  /**
   * The window ending at `nowMs`: the last `windowSeconds` whole seconds and
   * this one. Legacy's p99 is that of the same window when it served at least
   * `minSamples` reads in it, so a moment when the whole machine is slow slows
   * both sides alike and trips nothing; else that of the last window in which
   * it did (at 100 %, or in shadow_primary, legacy serves few reads or none).
   */
  summary(nowMs: number): WindowSummary {
    const oldest = Math.floor(nowMs / 1000) - this.#windowSeconds
    this.#sides.legacy.expire(oldest)
    this.#sides.shadow.expire(oldest)
    let divergences = 0
    for (let i = 0; i < this.#divergences.length; i++)
      if ((this.#divergenceSeconds[i] as number) >= oldest) divergences += this.#divergences[i] as number
    const legacyWindow = this.#sides.legacy.window as Hdr
    let legacy = legacyWindow
    if (legacyWindow.totalCount >= this.#minSamples) {
      this.#legacyBaseline.reset()
      this.#legacyBaseline.add(legacyWindow)
    } else if (this.#legacyBaseline.totalCount > 0) {
      legacy = this.#legacyBaseline
    }
    const shadow = this.#sides.shadow.window as Hdr
    return {
      divergences,
      shadow: { count: shadow.totalCount, p99: p99Seconds(shadow) },
      legacy: { count: legacy.totalCount, p99: p99Seconds(legacy) },
    }
  }

  /** Forgets the shadow's reads and the divergences (after a rollback); legacy's baseline stays. */
  clearShadow(): void {
    this.#sides.shadow.clear()
    this.#divergences.fill(0)
    this.#divergenceSeconds.fill(-1)
  }
}
