/**
 * Child for spec/crash/compact-kill.spec.ts: compacts one file, printing its progress, until
 * the parent kills it.
 *
 * Arguments: <file>. Output: `ready`, `progress <pairs done>` now and then, `done <json result>`.
 */
import { Index } from '../../../lib/index.ts'
import { arg, fail, say } from './io.ts'

function main(): void {
  const file = arg(0, 'file')
  say('ready')
  const r = Index.compact(file, { onProgress: p => say(`progress ${p.done}`) })
  say(`done ${JSON.stringify(r)}`)
}

try { main() } catch (err) { fail(err) }
