/**
 * Durable commits per second for a table with three indexes (city; email, unique; [last, first],
 * typed): one set file (FORMAT.md §12), where each row is one transaction over the three named
 * indexes, against three single-index files, where each row is three commits. Every commit is
 * durable (durability 'full'). Prints the median of the runs of each layout.
 *
 *   npx tsx scripts/sets-bench.ts [--rows 2000] [--runs 3] [--dir <directory on the disk to measure>]
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Index, IndexSet } from '../lib/index.ts'

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : dflt
}

const rows = Number(arg('rows', '2000'))
const runs = Number(arg('runs', '3'))
const base = arg('dir', os.tmpdir())

interface Row { id: number; city: string; email: string; last: string; first: string }

const CITIES = ['Lyon', 'Paris', 'Nice', 'Lille', 'Nantes', 'Rennes', 'Brest', 'Metz']
function row(i: number): Row {
  return { id: i, city: CITIES[(i * 7) % CITIES.length]!, email: `user${i}@example.com`, last: `Last${(i * 13) % 97}`, first: `First${i}` }
}

/** Seconds to write `rows` rows into one set file, one transaction per row. */
function oneFile(dir: string): number {
  const set = IndexSet.open(path.join(dir, 'users.set'))
  const city = set.index('city')
  const email = set.index('email', { unique: true })
  const name = set.index<[string, string]>('name', { keyEncoding: 'typed' })
  const t0 = performance.now()
  for (let i = 0; i < rows; i++) {
    const r = row(i)
    set.transaction(tx => {
      tx.index(city).insert(r.city, r.id)
      tx.index(email).insert(r.email, r.id)
      tx.index(name).insert([r.last, r.first], r.id)
    })
  }
  const s = (performance.now() - t0) / 1000
  if (city.count() !== rows || email.count() !== rows || name.count() !== rows) throw new Error('one file: wrong counts')
  set.close()
  return s
}

/** Seconds to write `rows` rows into three index files, three commits per row. */
function threeFiles(dir: string): number {
  const city = Index.open(path.join(dir, 'city.idx'))
  const email = Index.open(path.join(dir, 'email.idx'), { unique: true })
  const name = Index.open<[string, string]>(path.join(dir, 'name.idx'), { keyEncoding: 'typed' })
  const t0 = performance.now()
  for (let i = 0; i < rows; i++) {
    const r = row(i)
    city.insert(r.city, r.id)
    email.insert(r.email, r.id)
    name.insert([r.last, r.first], r.id)
  }
  const s = (performance.now() - t0) / 1000
  if (city.count() !== rows || email.count() !== rows || name.count() !== rows) throw new Error('three files: wrong counts')
  city.close()
  email.close()
  name.close()
  return s
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const layouts: [string, (dir: string) => number, number][] = [['one set file', oneFile, 1], ['three index files', threeFiles, 3]]
const times = new Map<string, number[]>(layouts.map(l => [l[0], []]))
for (let run = 0; run < runs; run++) {
  for (const [label, fn] of layouts) {
    const dir = fs.mkdtempSync(path.join(base, 'tailroot-sets-bench-'))
    try { times.get(label)!.push(fn(dir)) } finally { fs.rmSync(dir, { recursive: true, force: true }) }
  }
}
console.log(`${rows} rows, each inserted into 3 indexes with durable commits; median of ${runs} runs; ${os.cpus().length} cores; Node ${process.version}`)
console.log('| layout | seconds | rows/s | durable commits/s |')
console.log('|---|---|---|---|')
for (const [label, , commitsPerRow] of layouts) {
  const s = median(times.get(label)!)
  console.log(`| ${label} | ${s.toFixed(2)} | ${Math.round(rows / s)} | ${Math.round((rows * commitsPerRow) / s)} |`)
}
