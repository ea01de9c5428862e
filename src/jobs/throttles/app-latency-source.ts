/** The port the backfill's app-latency throttle reads the application's read p99 through, and the options that pick its source. */
import type { Registry } from 'prom-client'

/** Answers the application's read p99 over a recent window. */
export interface AppLatencySource {
  /** Named in the throttle's reason: `in-process` or `prometheus`. */
  readonly name: string
  /** The p99 in seconds; null when there is nothing to judge (no reads in the window, or a first look). */
  p99Seconds(): Promise<number | null>
}

/** The DAL's read-latency histogram in this process's registry, as a p99 over the last `windowSeconds`. */
export interface InProcessAppLatency {
  /** The registry the Cutover was given (its `cutover_operation_duration_seconds{operation="read"}`). */
  readonly registry: Registry
  /** How far back the p99 looks (default 10 s). */
  readonly windowSeconds?: number
}

/** A Prometheus instant query (`/api/v1/query`) returning one number, the p99 in seconds. */
export interface PrometheusAppLatency {
  /** The server's base URL (`http://prometheus:9090`); credentials in it are sent as basic auth and never printed. */
  readonly prometheusUrl: string
  /** PromQL returning one series or a scalar, in seconds. */
  readonly query: string
}

export type AppLatencyOptions = InProcessAppLatency | PrometheusAppLatency
