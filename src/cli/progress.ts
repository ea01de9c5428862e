/** Progress for long jobs: a bar with rows/s and ETA on a terminal, a plain line every few seconds otherwise. */
import cliProgress from 'cli-progress'
import type { CommandContext } from './context.js'

export interface Progress {
  readonly update: (done: number, total: number | undefined) => void
  readonly stop: () => void
  /** Shows why the job waits (a throttle's reason), or that it goes on (null). */
  readonly throttled: (reason: string | null) => void
}

export function progressReporter(ctx: CommandContext, label: string): Progress {
  if (ctx.json) return { update: () => undefined, stop: () => undefined, throttled: () => undefined }
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}{throttle}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    )
    const started = Date.now()
    let active = false
    let throttle = ''
    return {
      update: (done, total) => {
        const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000))
        if (!active) {
          bar.start(total ?? done, done, { rate, throttle })
          active = true
        }
        if (total !== undefined) bar.setTotal(Math.max(total, done))
        bar.update(done, { rate, throttle })
      },
      stop: () => {
        if (active) {
          bar.stop()
          active = false
        }
      },
      throttled: (reason) => {
        throttle = reason === null ? '' : ` | throttled: ${reason}`
        if (active) bar.update({ throttle })
        else if (reason !== null) process.stderr.write(`${label}: throttled: ${reason}\n`)
      },
    }
  }
  let last = 0
  const started = Date.now()
  return {
    update: (done, total) => {
      const now = Date.now()
      if (now - last < 2000) return
      last = now
      const rate = done / Math.max(0.001, (now - started) / 1000)
      const eta = total && rate > 0 ? ` ETA ${Math.ceil((total - done) / rate)} s` : ''
      process.stderr.write(`${label}: ${done}${total ? `/${total}` : ''} rows, ${Math.round(rate)} rows/s${eta}\n`)
    },
    stop: () => undefined,
    throttled: (reason) => {
      process.stderr.write(
        `${label}: ${reason === null ? 'goes on, the throttle no longer holds' : `throttled: ${reason}`}\n`,
      )
    },
  }
}
