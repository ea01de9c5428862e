/**
 * The one way a read pipeline is built, for a migration's DAL and a group's
 * alike: from the DAL's settings and the definition whose compare samples apply.
 */
import type { MigrationDefinition } from '../core/definition.js'
import type { Logger } from '../logger.js'
import type { MigrationInstruments } from '../metrics/instruments.js'
import type { ComparisonQueue } from './comparison-queue.js'
import type { SqlExecutor } from './executor.js'
import type { Guardrail } from './guardrail.js'
import { ReadPipeline, type ComparisonMode } from './read-pipeline.js'

export interface ReadPipelineSettings {
  readonly name: string
  readonly instruments: MigrationInstruments
  readonly logger: Logger
  readonly guardrail?: Guardrail | undefined
  /** The pool's executor (comparisons and divergence rows run there). */
  readonly executor: SqlExecutor
  readonly random: () => number
  /** Default `background`. */
  readonly comparisonMode?: ComparisonMode | undefined
  readonly comparisons: ComparisonQueue
  readonly background: (work: Promise<unknown>) => void
  /** The definition whose samples apply, read at each read (a changed definition's apply at once). */
  readonly definition: () => MigrationDefinition
}

export function readPipelineFor(settings: ReadPipelineSettings): ReadPipeline {
  const { definition } = settings
  return new ReadPipeline({
    name: settings.name,
    instruments: settings.instruments,
    logger: settings.logger,
    ...(settings.guardrail ? { guardrail: settings.guardrail } : {}),
    pool: settings.executor,
    random: settings.random,
    mode: settings.comparisonMode ?? 'background',
    queue: settings.comparisons,
    background: settings.background,
    sample: (state) => (state.phase === 'shadow_read' ? definition().shadowReadSample : definition().compareSample),
  })
}
