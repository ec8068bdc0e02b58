/**
 * The tailroot command: finds the command, parses its arguments (node:util parseArgs), runs it,
 * and turns what it threw into one line on stderr and an exit code (exit-codes.ts). bin/tailroot
 * only starts this.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { TailrootError } from '../errors.ts'
import type { Command } from './command.ts'
import { usageLine } from './command.ts'
import { backup } from './backup.ts'
import { compact } from './compact.ts'
import { dump } from './dump.ts'
import { EXIT_DAMAGE, EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, UsageError, exitCodeOf } from './exit-codes.ts'
import { get } from './get.ts'
import { history } from './history.ts'
import { load } from './load.ts'
import { Output } from './output.ts'
import type { CliStreams } from './output.ts'
import { stats } from './stats.ts'
import { verify } from './verify.ts'

export const COMMANDS: readonly Command[] = [stats, verify, dump, get, load, compact, backup, history]

function version(): string {
  // lib/cli/main.ts in a checkout, dist/cli/main.js in the package: the package.json is two up.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

function overview(): string {
  const width = Math.max(...COMMANDS.map(c => c.name.length))
  return `usage: tailroot <command> <file> [options]
       tailroot <command> --help | tailroot --help | tailroot --version

tailroot ${version()}: inspect, check, load, compact and back up tailroot index files.

commands:
${COMMANDS.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

exit codes:
  ${EXIT_OK}  success (verify: no problem found)
  ${EXIT_DAMAGE}  verify found damage
  ${EXIT_USAGE}  usage error (unknown command or option, bad value)
  ${EXIT_LOCKED}  the write lock stayed taken (compact --timeout)
  ${EXIT_FAILURE}  other failures: missing file, not an index, damaged file, bad input, I/O error`
}

function commandHelp(c: Command): string {
  return `usage: ${usageLine(c)}\n\n${c.summary}.\n\n${c.details}`
}

/** Runs the command line `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], streams: CliStreams): Promise<number> {
  const out = new Output(streams.stdout)
  const fail = (code: number, msg: string): number => {
    streams.stderr.write(`tailroot: ${msg}\n`)
    if (code === EXIT_USAGE) streams.stderr.write(`Run 'tailroot --help' for usage.\n`)
    return code
  }
  const first = argv[0]
  if (first === undefined) return fail(EXIT_USAGE, 'no command given')
  if (first === '--version' || first === '-v') {
    await out.line(version())
    await out.flush()
    return EXIT_OK
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const c = argv[1] === undefined || first !== 'help' ? undefined : COMMANDS.find(x => x.name === argv[1])
    if (first === 'help' && argv[1] !== undefined && c === undefined) return fail(EXIT_USAGE, `unknown command '${argv[1]}'`)
    await out.line(c === undefined ? overview() : commandHelp(c))
    await out.flush()
    return EXIT_OK
  }
  const cmd = COMMANDS.find(c => c.name === first)
  if (cmd === undefined) return fail(EXIT_USAGE, first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`)
  let code: number
  try {
    let parsed
    try {
      parsed = parseArgs({ args: argv.slice(1), options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    if (parsed.values.help === true) {
      await out.line(commandHelp(cmd))
      code = EXIT_OK
    } else {
      const n = cmd.positionals.length
      if (parsed.positionals.length !== n) {
        throw new UsageError(`${cmd.name} takes ${n === 1 ? 'one argument' : `${n} arguments`} (${cmd.positionals.map(p => `<${p}>`).join(' ')}), got ${parsed.positionals.length}; usage: ${usageLine(cmd)}`)
      }
      code = await cmd.run({ values: parsed.values, args: parsed.positionals, out, err: streams.stderr })
    }
  } catch (err) {
    await out.flush().catch(() => {})
    return fail(exitCodeOf(err), `${cmd.name}: ${describe(err)}`)
  }
  await out.flush()
  return code
}

/** One line for an error: the message of an expected failure; a bug is named as one. */
function describe(err: unknown): string {
  if (err instanceof TailrootError || err instanceof UsageError) return err.message.replace(/\n/g, ' ')
  const detail = process.env.TAILROOT_DEBUG ? `\n${(err as Error)?.stack ?? ''}` : ' (TAILROOT_DEBUG=1 shows the stack)'
  return `internal error: ${err instanceof Error ? err.message : String(err)}${detail}`
}
