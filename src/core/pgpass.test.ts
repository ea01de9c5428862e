import { describe, expect, it } from 'vitest'
import { pgpassPassword } from './pgpass.js'

const target = { host: 'db.internal', port: '5432', database: 'app', user: 'ana' }

describe('pgpassPassword', () => {
  it('gives the password of the first matching line, with * matching any field', () => {
    const text = [
      '# a comment',
      'other:5432:app:ana:nope',
      'db.internal:5432:*:ana:first',
      'db.internal:5432:app:ana:second',
    ].join('\n')
    expect(pgpassPassword(text, target)).toBe('first')
    expect(pgpassPassword('*:*:*:*:any', target)).toBe('any')
  })

  it('undoes \\ escapes of : and \\, and keeps the rest of the line (a : included) as the password', () => {
    expect(pgpassPassword('db.internal:5432:app:ana:p\\:w\\\\x', target)).toBe('p:w\\x')
    expect(pgpassPassword('db.internal:5432:app:ana:a:b', target)).toBe('a:b')
    expect(pgpassPassword('db\\:x:5432:app:ana:pw', { ...target, host: 'db:x' })).toBe('pw')
  })

  it('gives nothing when no line matches, for blank lines, or for a line of fewer than five fields', () => {
    expect(pgpassPassword('db.internal:5432:app:bob:pw\n\n', target)).toBeUndefined()
    expect(pgpassPassword('db.internal:5432:app:ana', target)).toBeUndefined()
    expect(pgpassPassword('', target)).toBeUndefined()
  })
})
