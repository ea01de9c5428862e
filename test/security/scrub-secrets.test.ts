import { describe, expect, it } from 'vitest'
import { scrubSecrets } from '../../src/logger.js'

const PW = 'S3cr-et_pw'

/** Each form a connection string or URL takes, with PW (or a password spelled out) inside it. */
const forms: readonly [string, string, string][] = [
  [
    'a URL with user and password',
    `postgres://ana:${PW}@db.internal:5432/app`,
    'postgres://ana:***@db.internal:5432/app',
  ],
  ['a URL with a password and no user', `postgres://:${PW}@db.internal/app`, 'postgres://:***@db.internal/app'],
  ['a URL whose password holds an @', 'postgres://ana:p@ss@db.internal/app', 'postgres://ana:***@db.internal/app'],
  [
    'a URL whose password holds several @',
    'postgresql://ana:p@s@s@db.internal/app?sslmode=require',
    'postgresql://ana:***@db.internal/app?sslmode=require',
  ],
  [
    'a URL with ?password=',
    `postgres://ana@db.internal/app?password=${PW}`,
    'postgres://ana@db.internal/app?password=***',
  ],
  [
    'a URL with &password=',
    `postgres://ana@db.internal/app?sslmode=require&password=${PW}&application_name=x`,
    'postgres://ana@db.internal/app?sslmode=require&password=***&application_name=x',
  ],
  [
    'a URL with &sslpassword=',
    `postgres://ana@db.internal/app?sslmode=verify-full&sslpassword=${PW}`,
    'postgres://ana@db.internal/app?sslmode=verify-full&sslpassword=***',
  ],
  [
    'an https URL with credentials',
    `https://admin:${PW}@prometheus:9090/api/v1/query`,
    'https://admin:***@prometheus:9090/api/v1/query',
  ],
  ['a conninfo string', `host=db.internal password=${PW} dbname=app`, 'host=db.internal password=*** dbname=app'],
  [
    'a conninfo string with a quoted password holding a space',
    "host=h password='p w' dbname=app",
    'host=h password=*** dbname=app',
  ],
  [
    'a conninfo string with a quoted password holding an escaped quote',
    "host=h password='it\\'s mine' user=ana",
    'host=h password=*** user=ana',
  ],
  ['a conninfo string with spaces around =', `host=h password = ${PW} port=5432`, 'host=h password = *** port=5432'],
  ['a conninfo string starting with the password', `password=${PW} host=h`, 'password=*** host=h'],
  ['PGPASSWORD in an environment listing', `PGPASSWORD=${PW} cutover status`, 'PGPASSWORD=*** cutover status'],
]

describe('scrubSecrets', () => {
  for (const [what, text, scrubbed] of forms) {
    it(`removes the whole password from ${what}`, () => {
      const out = scrubSecrets(`could not connect to ${text} (timeout)`)
      expect(out).toBe(`could not connect to ${scrubbed} (timeout)`)
    })
  }

  it('removes them inside JSON text too, leaving JSON that still parses', () => {
    const document = {
      url: `postgres://:${PW}@h/db`,
      conninfo: `host=h password='${PW} x'`,
      query: `postgres://u@h/db?password=${PW}`,
      after: 'x@y',
    }
    const out = scrubSecrets(JSON.stringify(document))
    expect(out).not.toContain(PW)
    expect(JSON.parse(out)).toEqual({
      url: 'postgres://:***@h/db',
      conninfo: 'host=h password=***',
      query: 'postgres://u@h/db?password=***',
      after: 'x@y',
    })
  })

  it('leaves text without a password as it was', () => {
    for (const text of [
      'postgres://ana@db.internal:5432/app',
      'http://prometheus:9090/api/v1/query?query=a@b',
      'host=h user=ana dbname=app',
      'mail ana@example.com',
      'the password is wrong',
      'GRANT SELECT ON "cutover".state TO ana',
    ]) {
      expect(scrubSecrets(text)).toBe(text)
    }
  })
})
