/**
 * Parent side of crafted-op.ts: runs one read operation on a crafted file in a child process with
 * a 256 MiB heap and a time limit, so a file that exhausts memory or never finishes fails the
 * test that runs it instead of taking the test runner down.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const child = fileURLToPath(new URL('./crafted-op.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export interface CraftedRun {
  status: number | null
  signal: string | null
  /** The child's output line (or what it printed before dying), trimmed. */
  out: string
}

export function runCrafted(file: string, op: string, timeoutMs = 60_000): CraftedRun {
  const r = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', child, file, op], {
    cwd: repoRoot, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL',
  })
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr.slice(-500)}`.trim() }
}
