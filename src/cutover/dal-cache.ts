/**
 * DALs handed out by name: each built once and the same promise given to
 * every caller; a build that fails is forgotten, so the next call tries again.
 */
export class DalCache<T> {
  readonly #built = new Map<string, Promise<T>>()
  readonly #build: (name: string) => Promise<T>

  constructor(build: (name: string) => Promise<T>) {
    this.#build = build
  }

  /** The DAL of `name`, built on the first call. */
  get(name: string): Promise<T> {
    let dal = this.#built.get(name)
    if (!dal) {
      dal = this.#build(name)
      this.#built.set(name, dal)
      dal.catch(() => this.#built.delete(name))
    }
    return dal
  }

  /** The DAL of `name` if one was asked for (built or being built); never starts a build. */
  peek(name: string): Promise<T> | undefined {
    return this.#built.get(name)
  }
}
