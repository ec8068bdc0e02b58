/**
 * Child for spec/process/compact-live.spec.ts: a reader that never calls refresh(). It reads
 * through implicit looks only (snapshot(), count()) and checks at every step that get('auto') is
 * exactly 0..n-1 and that sequences never go back. It must follow a compaction to the new file.
 *
 * Arguments: <file> <goFile> <stopFile>. Output: `ready`, `seen <n> <sequence>` whenever the
 * number of 'auto' rowIds it sees grows, `done <iterations>`; `bad <message>` (exit 1) on a violation.
 */
import fs from 'node:fs'
import { Index } from '../../../lib/index.ts'
import { arg, fail, say, sleepMs } from './io.ts'
import { waitForFile } from './wait.ts'

function bad(msg: string): never {
  say(`bad ${msg}`)
  process.exit(1)
}

function main(): void {
  const idx = Index.open(arg(0, 'file'), { readOnly: true })
  const stopFile = arg(2, 'stopFile')
  say('ready')
  waitForFile(arg(1, 'goFile'), 120_000)
  let seen = -1
  let lastSeq = -1
  let iterations = 0
  for (let stop = false; !stop;) {
    stop = fs.existsSync(stopFile)
    iterations++
    const snap = idx.snapshot()
    try {
      if (snap.sequence < lastSeq) bad(`sequence went back from ${lastSeq} to ${snap.sequence}`)
      lastSeq = snap.sequence
      const auto = snap.get('auto')
      for (let i = 0; i < auto.length; i++) if (auto[i] !== i) bad(`at sequence ${snap.sequence}: auto #${i} is ${auto[i]}`)
      if (snap.count('auto') !== auto.length) bad(`at sequence ${snap.sequence}: count disagrees with get`)
      if (auto.length > seen) {
        seen = auto.length
        say(`seen ${seen} ${snap.sequence}`)
      }
    } finally {
      snap.close()
    }
    sleepMs(1)
  }
  idx.close()
  say(`done ${iterations}`)
}

try { main() } catch (err) { fail(err) }
