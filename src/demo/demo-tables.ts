/** The demo's tables: a legacy `demo_users` and its new shape `demo_users_v2`, and the config that maps them. */

/** The legacy table and the new shape: varchar ids to uuid, a split name, a rename, cents to numeric, json to jsonb. */
export const DEMO_DDL = `
  CREATE TABLE demo_users (
    id varchar(36) PRIMARY KEY,
    full_name text NOT NULL,
    email text NOT NULL,
    balance_cents integer NOT NULL DEFAULT 0,
    prefs json,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE TABLE demo_users_v2 (
    id uuid PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email_address text NOT NULL,
    balance numeric(12,2) NOT NULL,
    prefs jsonb,
    created_at timestamptz NOT NULL
  );
  -- The demo's knob for "the shadow got slow": every shadow read goes through it.
  CREATE TABLE demo_latency (seconds float8 NOT NULL);
  INSERT INTO demo_latency VALUES (0);
  CREATE FUNCTION demo_latency() RETURNS boolean LANGUAGE sql STABLE AS 'SELECT true FROM pg_sleep((SELECT seconds FROM public.demo_latency))';
`

export const DEMO_MIGRATION = 'demo_users_v2'

export const DEMO_CONFIG = {
  migrations: [
    {
      name: DEMO_MIGRATION,
      legacy: { table: 'public.demo_users', key: ['id'] },
      shadow: { table: 'public.demo_users_v2', key: ['id'] },
      forward: {
        id: 'id::uuid',
        first_name: "split_part(full_name, ' ', 1)",
        last_name: "substr(full_name, length(split_part(full_name, ' ', 1)) + 2)",
        email_address: 'email',
        balance: 'balance_cents / 100.0',
      },
      backward: {
        id: 'id::text',
        // demo_latency() sleeps for as long as the demo says: 0 until it plays a slow shadow.
        // The knob's value is used (WHERE knob.slept), so the planner cannot drop the STABLE call; a mapping may call no
        // VOLATILE function. concat_ws with nullif gives back a one-word name without a trailing space (the round trip).
        full_name:
          "(SELECT concat_ws(' ', first_name, nullif(last_name, '')) FROM (SELECT public.demo_latency() AS slept) AS knob WHERE knob.slept)",
        email: 'email_address',
        balance_cents: '(balance * 100)::int',
        prefs: 'prefs::json',
      },
      compare: { created_at: 'timestamp_ms' },
      compareSample: 0.25,
      soakSeconds: 1,
      guardrails: { maxP99Ratio: 3, maxDivergencesPerMinute: 600, windowSeconds: 5, minSamples: 20 },
    },
  ],
}

const FIRST = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Niklaus']
const LAST = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Wirth']

/** Seeds `rows` legacy users in SQL (fast), names and JSON included. */
export function seedSql(rows: number): { text: string; values: unknown[] } {
  return {
    text: `INSERT INTO demo_users (id, full_name, email, balance_cents, prefs, created_at)
           SELECT gen_random_uuid()::text, ($2::text[])[1 + g % 10] || ' ' || ($3::text[])[1 + (g / 10) % 10],
                  'user' || g || '@example.com', (g * 37) % 100000,
                  json_build_object('theme', CASE WHEN g % 2 = 0 THEN 'dark' ELSE 'light' END, 'lang', 'en'),
                  now() - (g || ' minutes')::interval
             FROM generate_series(1, $1::int) AS g`,
    values: [rows, FIRST, LAST],
  }
}

export function randomName(random: () => number): string {
  return `${FIRST[Math.floor(random() * FIRST.length)]} ${LAST[Math.floor(random() * LAST.length)]}`
}
