/** Cleanup to run when the operator presses Ctrl-C; the entry file runs the hooks, then exits. */
const hooks = new Set<() => Promise<void>>()

/** Registers `cleanup` for Ctrl-C; returns the function that unregisters it. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  hooks.add(cleanup)
  return () => hooks.delete(cleanup)
}

let running: Promise<void> | undefined

/** Runs every hook once; later calls get the same promise. */
export function runInterruptHooks(): Promise<void> {
  running ??= Promise.allSettled([...hooks].map((hook) => hook())).then(() => undefined)
  return running
}

/** The hooks' run when Ctrl-C was pressed, so the entry file waits for it before exiting. */
export function interruptCleanup(): Promise<void> | undefined {
  return running
}
