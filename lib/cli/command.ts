/** The shape of one command of the tailroot tool (one file each in this directory). */
import type { ParseArgsConfig } from 'node:util'
import type { ErrStream, Output } from './output.ts'

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>

export interface Invocation {
  /** The options given, parsed. */
  values: Record<string, string | boolean | undefined>
  /** The positional arguments, exactly as many as the command names. */
  args: string[]
  out: Output
  err: ErrStream
}

export interface Command {
  name: string
  /** Names of the positional arguments, all required. */
  positionals: string[]
  /** The options after the positionals in the usage line, e.g. `[--json]`. */
  synopsis: string
  /** One line for the command list. */
  summary: string
  /** The rest of `tailroot <command> --help`. */
  details: string
  options: OptionSpecs
  /** Returns the exit code; throws UsageError or TailrootError for expected failures. */
  run(inv: Invocation): Promise<number>
}

/** The usage line of a command. */
export function usageLine(c: Command): string {
  return `tailroot ${c.name} ${c.positionals.map(p => `<${p}>`).join(' ')}${c.synopsis === '' ? '' : ` ${c.synopsis}`}`
}

export const JSON_OPTION: OptionSpecs = { json: { type: 'boolean' } }
