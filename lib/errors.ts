/** The one error type tailroot throws, with a stable `code`. */

export type ErrorCode =
  | 'CORRUPT'
  | 'NOT_AN_INDEX'
  | 'NOT_FOUND'
  | 'VERSION'
  | 'LOCKED'
  | 'KEY_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'UNIQUE_VIOLATION'
  | 'READ_ONLY'
  | 'CLOSED'
  | 'IO'
  | 'ABORTED'

export interface ErrorDetails {
  path?: string
  page?: number
  cause?: unknown
}

export class TailrootError extends Error {
  readonly code: ErrorCode
  readonly path?: string
  readonly page?: number

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'TailrootError'
    this.code = code
    if (details.path !== undefined) this.path = details.path
    if (details.page !== undefined) this.page = details.page
  }
}

/** A page failed a check. `where` names the file; the page number goes into the message. */
export function corrupt(path: string, page: number, what: string): TailrootError {
  return new TailrootError('CORRUPT', `${path}: page ${page}: ${what}`, { path, page })
}

export function invalid(message: string): TailrootError {
  return new TailrootError('INVALID_ARGUMENT', message)
}

/** The same error with the file named at the front of its message (when it does not name it yet). */
export function naming(path: string, err: unknown): unknown {
  if (!(err instanceof TailrootError) || err.message.includes(path)) return err
  const named = new TailrootError(err.code, `${path}: ${err.message}`, { path, ...(err.page === undefined ? {} : { page: err.page }), cause: err.cause })
  named.stack = err.stack
  return named
}

/** Wraps an operating-system error from file I/O; passes TailrootErrors through. */
export function ioError(path: string, action: string, err: unknown): TailrootError {
  if (err instanceof TailrootError) return err
  const code = (err as NodeJS.ErrnoException | null)?.code
  const msg = err instanceof Error ? err.message : String(err)
  return new TailrootError('IO', `${path}: ${action} failed${code ? ` (${code})` : ''}: ${msg}`, { path, cause: err })
}
