/** Option values checked on the command line, so that a bad one is a usage error (exit 2). */
import { UsageError } from './exit-codes.ts'

/** A non-negative integer option. */
export function integerOption(s: unknown, what: string): number {
  if (typeof s !== 'string' || !/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new UsageError(`${what} must be a non-negative integer, got ${JSON.stringify(s)}`)
  }
  return Number(s)
}

/** An option that takes one of a few words. */
export function choiceOption<T extends string>(s: unknown, what: string, choices: readonly T[]): T {
  if (typeof s !== 'string' || !(choices as readonly string[]).includes(s)) {
    throw new UsageError(`${what} must be ${choices.map(c => `'${c}'`).join(' or ')}, got ${JSON.stringify(s)}`)
  }
  return s as T
}
