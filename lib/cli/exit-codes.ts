/** The exit codes of the tailroot command (README, "Command line"). */
import { TailrootError } from '../errors.ts'

export const EXIT_OK = 0
/** verify found damage. */
export const EXIT_DAMAGE = 1
/** Bad arguments: an unknown command or option, a missing or malformed value. */
export const EXIT_USAGE = 2
/** Another process held the write lock longer than the timeout. */
export const EXIT_LOCKED = 3
/** Everything else: a missing file, not an index, a damaged file where a command needs it whole, I/O errors, bad input data. */
export const EXIT_FAILURE = 4

/** A command line the command cannot run: exit EXIT_USAGE with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The exit code for an error a command threw. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError) return EXIT_USAGE
  if (err instanceof TailrootError && err.code === 'LOCKED') return EXIT_LOCKED
  return EXIT_FAILURE
}
