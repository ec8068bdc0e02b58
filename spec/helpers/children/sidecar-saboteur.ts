/**
 * Child for spec/process/lock-sidecar.spec.ts: does to the lock sidecar what a "stale lock"
 * cleanup, a restore or rsync do, in a loop, while writers run: deletes it, renames it away,
 * replaces it by rename with a new file, or recreates it in place, sometimes with mode 0o600 or
 * 0o444. Starts when <goFile> exists; stops when <stopFile> exists or after <maxRounds> rounds.
 *
 * Arguments: <lockFile> <seed> <goFile> <stopFile> <maxRounds>. Output: `ready`, then
 * `done <rounds>`.
 */
import fs from 'node:fs'
import { Rng } from '../rng.ts'
import { arg, fail, say, sleepMs } from './io.ts'
import { waitForFile } from './wait.ts'

const MODES = [0o666, 0o644, 0o600, 0o444]

function main(): void {
  const lock = arg(0, 'lockFile')
  const rng = new Rng(Number(arg(1, 'seed')))
  const stop = arg(3, 'stopFile')
  const maxRounds = Number(arg(4, 'maxRounds'))
  const aside = `${lock}.aside`
  say('ready')
  waitForFile(arg(2, 'goFile'), 120_000)
  let rounds = 0
  while (rounds < maxRounds && !fs.existsSync(stop)) {
    rounds++
    const mode = rng.pick(MODES)
    switch (rng.int(4)) {
      case 0:
        fs.rmSync(lock, { force: true })
        break
      case 1:
        try { fs.renameSync(lock, aside) } catch { /* not there right now */ }
        break
      case 2:
        fs.writeFileSync(aside, '', { mode })
        fs.chmodSync(aside, mode)
        fs.renameSync(aside, lock)
        break
      default:
        fs.rmSync(lock, { force: true })
        try { fs.closeSync(fs.openSync(lock, 'wx', mode)) } catch { /* a writer created it first */ }
        try { fs.chmodSync(lock, mode) } catch { /* gone again */ }
    }
    // Half the rounds leave the writers a moment (and a core) between two changes.
    sleepMs(rng.int(2))
  }
  say(`done ${rounds}`)
}

try { main() } catch (err) { fail(err) }
