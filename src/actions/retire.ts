/**
 * `cutover retire` and `cutover unretire` as actions: the soak gate (`force`
 * overrides it, recorded), the one transaction under a lock timeout and the
 * event live in the store's retire/unretire; the CLI and code call these.
 */
export { retire, type RetireOptions, type RetireResult } from '../store/retire/retire.js'
export { unretire, type UnretireOptions, type UnretireResult } from '../store/retire/unretire.js'
export { retireTarget, unretireTarget } from './retire-group.js'
