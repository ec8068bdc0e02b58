// The lock sidecar `<file>.lock` deleted, renamed away, replaced or recreated with other
// permissions while writers run (a "stale lock" cleanup, a restore, rsync): two writers never
// commit at once and no acknowledged commit is lost. Also: the sidecar is opened read-only, so a
// process that may write the index but not the sidecar can still take the lock.
//
// TAILROOT_SEED=n reruns one seed. TAILROOT_SOAK=1 runs ten times the commits.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Index, TailrootError } from '../../lib/index.ts'
import { Rng } from '../helpers/rng.ts'
import { SOAK } from '../helpers/soak.ts'
import { tmpDir } from '../helpers/tmp.ts'
import { runChild, startTogether } from '../helpers/children/run.ts'
import type { Child } from '../helpers/children/run.ts'

/** Commits per writer process (two handles each). */
const COMMITS = SOAK ? 3000 : 300
/** Same-process rounds; each costs one lockTimeoutMs wait. */
const ROUNDS = SOAK ? 40 : 8

function badLines(c: Child, ok: RegExp): string[] {
  return c.lines.filter(l => !ok.test(l))
}

/** The pairs an `ack <i> <n>` line of writer `tag` acknowledged. */
function ackedPairs(tag: string, line: string): [string, number][] {
  const m = /^ack (\d+) (\d+)$/.exec(line)
  if (!m) return []
  const i = Number(m[1])
  return Array.from({ length: Number(m[2]) }, (_, j) => [`${tag}:${i}:${j}`, i] as [string, number])
}

t.test('two writer processes, two handles each, while a third process keeps replacing the sidecar', async t => {
  const seed = Rng.seedFromEnv()
  t.comment(`seed ${seed} (TAILROOT_SEED=${seed} to rerun), ${COMMITS} commits per writer process`)
  const dir = tmpDir(t)
  const file = path.join(dir, 'contended.idx')
  const go = path.join(dir, 'go')
  const stop = path.join(dir, 'stop')
  Index.open(file, { pageSize: 1024 }).close()

  const tags = ['p', 'q']
  const writers = tags.map((tag, k) => runChild('sidecar-writer', [file, tag, COMMITS, seed + k, go]))
  const saboteur = runChild('sidecar-saboteur', [`${file}.lock`, seed + 7, go, stop, 10_000_000])
  const all = [...writers, saboteur]
  // Everyone is loaded: start together.
  if (!await startTogether(t, all, go, seed)) return
  const exits = await Promise.all(writers.map(w => w.exited))
  fs.writeFileSync(stop, '')
  const sabExit = await saboteur.exited

  t.same(badLines(saboteur, /^(ready|done \d+)$/), [], `the saboteur reported no problem; stderr: ${saboteur.stderr.slice(-1500)}`)
  t.equal(sabExit.code, 0, 'the saboteur finished cleanly')
  const rounds = Number(saboteur.lines.find(l => l.startsWith('done '))?.slice(5) ?? 0)
  t.comment(`the saboteur changed the sidecar ${rounds} times`)
  t.ok(rounds >= 10, `the sidecar changed many times while the writers ran (${rounds})`)

  const expected = new Map<string, number>()
  let commits = 0
  for (const [k, w] of writers.entries()) {
    t.same(badLines(w, /^(ready|ack \d+ \d+|done \d+)$/), [], `writer ${tags[k]} reported no problem (seed ${seed}); stderr: ${w.stderr.slice(-1500)}`)
    t.equal(exits[k]!.code, 0, `writer ${tags[k]} finished cleanly (seed ${seed})`)
    const acks = w.lines.filter(l => l.startsWith('ack '))
    t.equal(acks.length, COMMITS, `writer ${tags[k]} acknowledged all its commits (seed ${seed})`)
    commits += acks.length
    for (const l of acks) for (const [key, r] of ackedPairs(tags[k]!, l)) expected.set(key, r)
  }

  const idx = Index.open(file, { readOnly: true })
  const missing = [...expected].filter(([key, r]) => !idx.get(key).includes(r))
  t.same(missing.slice(0, 10), [], `every acknowledged pair is in the file (${missing.length} of ${expected.size} missing; seed ${seed})`)
  t.equal(idx.count(), expected.size, `and nothing else (seed ${seed})`)
  t.equal(idx.sequence, commits, `one commit per acknowledged commit: none lost, none made at the same time as another (seed ${seed})`)
  idx.close()
  const v = Index.verify(file)
  t.ok(v.ok, `verify ok (seed ${seed}): ${JSON.stringify(v.errors).slice(0, 1000)}`)
})

/** The four things done to a sidecar, by number. */
function sabotage(lock: string, k: number): void {
  const aside = `${lock}.aside`
  switch (k % 4) {
    case 0:
      fs.rmSync(lock, { force: true })
      break
    case 1:
      if (fs.existsSync(lock)) fs.renameSync(lock, aside)
      break
    case 2:
      fs.writeFileSync(aside, '', { mode: 0o600 })
      fs.renameSync(aside, lock)
      break
    default:
      fs.rmSync(lock, { force: true })
      fs.writeFileSync(lock, '', { mode: 0o444 })
  }
}

t.test('two handles in one process, the sidecar changed between and during their commits', t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'same-process.idx')
  const lock = `${file}.lock`
  const a = Index.open(file, { lockTimeoutMs: 100 })
  const b = Index.open(file, { lockTimeoutMs: 100 })
  const acked = new Map<string, number>()
  let commits = 0
  let inside = 0
  let k = 0
  const write = (h: Index, key: string, r: number): void => {
    t.equal(h.insert(key, r), true, `insert ${key}`)
    acked.set(key, r)
    commits++
  }
  for (let round = 0; round < ROUNDS; round++) {
    const [x, y] = round % 2 === 0 ? [a, b] : [b, a]
    write(x, `s${round}`, round)
    sabotage(lock, k++)
    write(y, `t${round}`, round)
    sabotage(lock, k++)
    x.transaction(tx => {
      tx.insert(`n${round}`, round)
      sabotage(lock, k++)
      // Synchronous: the other handle can only time out here, never commit.
      try {
        y.insert(`m${round}`, round)
        acked.set(`m${round}`, round)
        commits++
        inside++
      } catch (err) {
        if (!(err instanceof TailrootError && err.code === 'LOCKED')) throw err
      }
    })
    acked.set(`n${round}`, round)
    commits++
  }
  t.equal(inside, 0, 'the second handle never committed inside the first one\'s transaction')
  a.close()
  b.close()

  const idx = Index.open(file, { readOnly: true })
  const missing = [...acked].filter(([key, r]) => !idx.get(key).includes(r)).map(([key]) => key)
  t.same(missing, [], `a fresh open sees every acknowledged key (${acked.size})`)
  t.equal(idx.count(), acked.size, 'and nothing else')
  t.equal(idx.sequence, commits, 'one commit per acknowledged commit')
  idx.close()
  t.ok(Index.verify(file).ok, 'verify ok')
  t.end()
})

t.test('the sidecar is opened read-only', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'ro-lock.idx')
  const lock = `${file}.lock`
  const w = Index.open(file)
  w.insert('a', 1)

  t.test('the lock descriptor has no write access', { skip: fs.existsSync('/proc/self/fdinfo') ? false : 'no /proc/self/fdinfo here' }, async t => {
    const seen: { flags: number | null } = { flags: null }
    w.transaction(tx => {
      tx.insert('b', 2)
      for (const fd of fs.readdirSync('/proc/self/fd')) {
        let target = ''
        try { target = fs.readlinkSync(`/proc/self/fd/${fd}`) } catch { continue }
        if (target !== fs.realpathSync(lock)) continue
        const m = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))
        if (m) seen.flags = parseInt(m[1]!, 8)
      }
    })
    t.not(seen.flags, null, 'the writer has the sidecar open')
    t.equal((seen.flags ?? -1) & 0o3, 0, `opened O_RDONLY (flags ${seen.flags?.toString(8)})`)
  })

  // Root ignores permission bits: then the write runs in a child as the unprivileged user
  // 'nobody', which owns the index (and may write it) but not the sidecar (root's, 0444).
  const asRoot = process.getuid?.() === 0
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const lib = path.join(root, 'lib/index.ts')
  const nobody = { uid: 65534, gid: 65534 }
  const probe = asRoot ? spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(lib)}); require('fs').accessSync(${JSON.stringify(path.join(root, 'node_modules/tsx/package.json'))})`], { ...nobody, cwd: '/', encoding: 'utf8' }) : null
  const skip = probe !== null && probe.status !== 0 ? `running as root, and the user nobody cannot read this checkout: ${probe.stderr.trim().split('\n').pop()}` : false

  t.test('a writer that may not write the sidecar still commits', { skip }, async t => {
    fs.chmodSync(lock, 0o444)
    if (!asRoot) {
      const v = Index.open(file)
      t.equal(v.insert('c', 3), true, 'the insert commits')
      v.close()
      return
    }
    fs.chmodSync(dir, 0o755)
    fs.chownSync(file, nobody.uid, nobody.gid)
    const script = `
      import { Index } from ${JSON.stringify(lib)}
      import fs from 'node:fs'
      let sidecarWritable = true
      try { fs.closeSync(fs.openSync(${JSON.stringify(lock)}, 'r+')) } catch (e) { sidecarWritable = e.code !== 'EACCES' }
      let result = 'ok'
      try { const v = Index.open(${JSON.stringify(file)}); v.insert('c', 3); v.close() } catch (e) { result = e.code ?? String(e) }
      console.log(JSON.stringify({ sidecarWritable, result }))`
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { ...nobody, encoding: 'utf8', cwd: root, env: { ...process.env, HOME: dir } })
    t.equal(res.status, 0, `child ran (stderr: ${res.stderr})`)
    const out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as { sidecarWritable: boolean; result: string }
    t.equal(out.sidecarWritable, false, 'the child cannot open the sidecar for writing')
    t.equal(out.result, 'ok', 'yet its insert commits')
  })

  t.teardown(() => w.close())
  t.test('every pair is there', async t => {
    const r = Index.open(file, { readOnly: true })
    t.same(r.get('a'), [1])
    t.same(r.get('b'), [2])
    if (skip === false) t.same(r.get('c'), [3])
    r.close()
  })
})
