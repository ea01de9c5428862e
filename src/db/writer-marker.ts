/**
 * How the tool's own writes tell the bypass net's trigger (sql/0008) "this
 * statement is ours": the statement sets `cutover.dal_statement` to its own
 * `statement_timestamp()`, inside the statement, with no extra round trip.
 * The setting lasts the transaction, but a later statement of that transaction
 * has a later statement_timestamp(), so the trigger takes it for what it is: a
 * writer that did not come through the DAL. The AFTER trigger runs at the end
 * of the statement, after every part of it, so the marker may be set anywhere in it.
 */

/** The transaction-local setting that carries the marker. */
export const WRITER_MARKER_SETTING = 'cutover.dal_statement'

/**
 * The condition to put in a statement's final SELECT (`WHERE …`): an InitPlan
 * that the executor evaluates exactly once, before the first row, whether or
 * not any row comes (a one-time filter), so every statement that carries it
 * sets the marker. It replaced a CTE read through a `CROSS JOIN`, which cost
 * each unprepared statement (the pooler's unnamed mode) about 5 % more to plan
 * and run (BENCHMARKS.md, "The writer marker's cost").
 */
export const WRITER_MARKER_FILTER = `(SELECT pg_catalog.set_config('${WRITER_MARKER_SETTING}', pg_catalog.statement_timestamp()::text, true)) IS NOT NULL`

/**
 * True in a trigger when the statement that fired it set the marker itself.
 * Every name is qualified: it is the bypass net trigger's WHEN clause, resolved
 * once when the trigger is created (no writer's search_path chooses its `=`).
 * The setting is anyone's to set, so the net trusts it only from a role that
 * may write the shadow itself (store/bypass/bypass-net-sql.ts).
 */
export const IS_MARKED_STATEMENT_SQL = `coalesce(pg_catalog.current_setting('${WRITER_MARKER_SETTING}', true) OPERATOR(pg_catalog.=) pg_catalog.statement_timestamp()::pg_catalog.text, false)`
