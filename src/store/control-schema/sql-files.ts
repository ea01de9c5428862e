/** Reads the numbered control-schema files shipped in `sql/`. */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

export interface SqlFile {
  readonly version: number
  readonly file: string
  readonly text: string
  /** sha256 of the file's bytes as shipped. */
  readonly checksum: string
}

/** `sql/` beside `src/` or `dist/`: both are directly below the package root (this file is in src/store/control-schema/). */
export const DEFAULT_SQL_DIR = fileURLToPath(new URL('../../../sql/', import.meta.url))

export async function readSqlFiles(dir: string = DEFAULT_SQL_DIR): Promise<SqlFile[]> {
  const names = (await readdir(dir)).filter((n) => /^\d{4}_[a-z0-9_]+\.sql$/.test(n)).sort()
  const files: SqlFile[] = []
  for (const file of names) {
    const text = await readFile(`${dir}/${file}`, 'utf8')
    files.push({
      version: Number(file.slice(0, 4)),
      file,
      text,
      checksum: createHash('sha256').update(text).digest('hex'),
    })
  }
  return files
}
