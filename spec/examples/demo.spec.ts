/**
 * The demo (examples/demo.ts, `npm start`) on the sample table in fixtures/: every query of
 * examples/cities/ checked against a plain computation over the same rows, the updates and their
 * change numbers, compaction; and the entry point run end to end as a child process.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { Index } from '../../lib/index.ts'
import { INDEX_NAMES, buildIndexes, closeIndexes, indexFile, keyOf, openIndexes } from '../../examples/cities/indexes.ts'
import type { CityIndexes, IndexName } from '../../examples/cities/indexes.ts'
import { cityById, citiesOfCountry, countryCount, largestOfCountry, largestOfWorld, namesStartingWith, pageOfCountry } from '../../examples/cities/queries.ts'
import { foldName, liveRows, loadSample } from '../../examples/cities/table.ts'
import type { City, Table } from '../../examples/cities/table.ts'
import { applyToIndexes, applyToTable, changeNumbers, makeChanges } from '../../examples/cities/updates.ts'
import { tmpDir } from '../helpers/tmp.ts'

/** Strings by code point (the order of their UTF-8 bytes, which tailroot keeps). */
function cmpStr(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** The natural order of the demo's keys: numbers, strings, and tuples of them. */
function cmpKey(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') return cmpStr(a, b)
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = cmpKey(a[i], b[i])
      if (c !== 0) return c
    }
    return a.length - b.length
  }
  throw new Error(`cmpKey: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`)
}

/** The live rows sorted by `key`, then rowId (or both descending). */
function sortedBy(table: Table, key: (c: City) => unknown, reverse = false): City[] {
  const rows = [...liveRows(table)].map(([c, rowId]) => ({ c, rowId, k: key(c) }))
  rows.sort((x, y) => cmpKey(x.k, y.k) || x.rowId - y.rowId)
  if (reverse) rows.reverse()
  return rows.map(r => r.c)
}

/** What an index must hold for `table`: (key, rowId) pairs in order. */
function expectedPairs(table: Table, name: IndexName): [unknown, number][] {
  const key = keyOf[name] as (c: City) => unknown
  return [...liveRows(table)].map(([c, rowId]): [unknown, number] => [key(c), rowId]).sort((x, y) => cmpKey(x[0], y[0]) || x[1] - y[1])
}

function allPairs(ix: CityIndexes, name: IndexName): [unknown, number][] {
  return [...(ix[name] as unknown as Index<never>).range()] as [unknown, number][]
}

const sample = loadSample()
const countries = [...new Set([...liveRows(sample)].map(([c]) => c.country))].sort()

t.test('the sample in fixtures/', async t => {
  t.equal(sample.length, 2000, '2,000 rows')
  t.equal(new Set(sample.map(c => c!.id)).size, 2000, 'GeoNames ids are unique')
  t.ok(sample.filter(c => c!.country === 'FR').length > 30 * 20, 'enough French cities for page 30 at 20 a page')
  t.ok(sample.some(c => c!.id === 2988507), 'Paris, which the demo looks up, is in it')
})

t.test('queries answer what the rows say', async t => {
  const dir = tmpDir(t)
  const table: Table = [...sample]
  let progressCalls = 0
  const { indexes: ix, ms } = buildIndexes(dir, table, () => { progressCalls++ })
  t.teardown(() => closeIndexes(ix))
  t.same(Object.keys(ms).sort(), [...INDEX_NAMES].sort(), 'a build time for every index')
  t.ok(progressCalls >= INDEX_NAMES.length, 'progress reported')
  for (const name of INDEX_NAMES) {
    t.same(allPairs(ix, name), expectedPairs(table, name), `${name} holds every row's key, in order`)
    t.equal(ix[name].stats().entries, 2000, `${name}: stats count every row`)
  }
  t.ok(ix.byId.unique, 'the id index is unique')

  for (const [c] of [...liveRows(table)].slice(0, 100)) t.same(cityById(ix, table, c.id), c, `id ${c.id}`)
  t.equal(cityById(ix, table, -1), null, 'a missing id')

  for (const country of [...countries, 'ZZ']) {
    const mine = sortedBy(table, c => c.name).filter(c => c.country === country)
    t.same(citiesOfCountry(ix, table, country), mine, `${country}: cities in name order`)
    t.equal(countryCount(ix, country), mine.length, `${country}: count`)
    const largest = sortedBy(table, c => c.population, true).filter(c => c.country === country).slice(0, 10)
    t.same(largestOfCountry(ix, table, country, 10), largest, `${country}: the 10 largest`)
  }

  const world = largestOfWorld(ix, table, 5, 1_000_000)
  t.equal(world.count, [...liveRows(table)].filter(([c]) => c.population >= 1_000_000).length, 'cities of a million or more')
  t.same(world.top, sortedBy(table, c => c.population, true).slice(0, 5), 'the 5 largest of the world')

  for (const prefix of ['San', 'sAN', 'saint-', 'Ö', 'Z', 'xq', '']) {
    const p = foldName(prefix)
    const mine = sortedBy(table, c => foldName(c.name)).filter(c => foldName(c.name).startsWith(p))
    const got = namesStartingWith(ix, table, prefix, 10)
    t.equal(got.count, mine.length, `names starting with ${JSON.stringify(prefix)}: count`)
    t.same(got.first, mine.slice(0, 10), `names starting with ${JSON.stringify(prefix)}: the first 10`)
  }
  t.ok(namesStartingWith(ix, table, 'San', 10).count > 0, 'the sample has names starting with San')

  const french = sortedBy(table, c => c.name).filter(c => c.country === 'FR')
  for (const [page, size] of [[1, 20], [30, 20], [2, 7], [Math.ceil(french.length / 20), 20], [1000, 20]] as const) {
    const got = pageOfCountry(ix, table, 'FR', page, size)
    t.same(got, { page, pageSize: size, total: french.length, pages: Math.ceil(french.length / size), rows: french.slice((page - 1) * size, page * size) },
      `page ${page} of French cities at ${size} a page`)
  }
  t.equal(pageOfCountry(ix, table, 'FR', 30, 20).rows.length, 20, 'page 30 is a full page')
})

t.test('updates keep every index in step with the table and record the change number', async t => {
  const dir = tmpDir(t)
  const table: Table = [...sample]
  closeIndexes(buildIndexes(dir, table).indexes)
  const changes = makeChanges(table, 200)
  t.same(makeChanges(table, 200), changes, 'the feed is deterministic')
  t.same(changes.map(c => c.seq), changes.map((_, i) => i + 1), 'numbered from 1')
  t.equal(changes.filter(c => c.before === null).length, 1, 'one insert')
  t.equal(changes.filter(c => c.after === null).length, 1, 'one delete')
  t.equal(new Set(changes.map(c => c.rowId)).size, changes.length, 'each change touches its own row')
  const before = table.length

  const ix = openIndexes(dir)
  t.teardown(() => closeIndexes(ix))
  t.same(changeNumbers(ix), Object.fromEntries(INDEX_NAMES.map(n => [n, 0])), 'no change number before the first update')
  applyToTable(table, changes)
  t.equal(table.length, before + 1, 'the insert took the next rowId')
  const batches = applyToIndexes(ix, changes, 25)
  t.equal(batches.length, Math.ceil(changes.length / 25), 'batches of 25')
  batches.forEach((b, i) => {
    t.equal(b.lastChange, Math.min((i + 1) * 25, changes.length), `batch ${i + 1}: its last change`)
    for (const name of INDEX_NAMES) t.equal(b.sequences[name], i + 2, `batch ${i + 1}: ${name} committed once, touched or not`)
  })
  for (const name of INDEX_NAMES) t.same(allPairs(ix, name), expectedPairs(table, name), `${name} matches the updated table`)
  const founded = changes.find(c => c.before === null)!.after!
  t.same(cityById(ix, table, founded.id), founded, 'the new city is found by id')
  const removed = changes.find(c => c.after === null)!.before!
  t.equal(cityById(ix, table, removed.id), null, 'the removed city is gone')

  closeIndexes(ix)
  const reopened = openIndexes(dir)
  t.teardown(() => closeIndexes(reopened))
  t.same(changeNumbers(reopened), Object.fromEntries(INDEX_NAMES.map(n => [n, changes.length])), 'after reopening, every index is at the last change')

  const file = indexFile(dir, 'byCountryPopulation')
  const r = Index.compact(file)
  t.ok(r.bytesAfter <= r.bytesBefore, 'compaction does not grow the file')
  t.equal(r.entries, table.filter(c => c !== null).length, 'compaction keeps every entry')
  t.ok(Index.verify(file).ok, 'the compacted file verifies')
  reopened.byCountryPopulation.refresh()
  t.same(allPairs(reopened, 'byCountryPopulation'), expectedPairs(table, 'byCountryPopulation'), 'same pairs after compaction')
  t.equal(changeNumbers(reopened).byCountryPopulation, changes.length, 'compaction keeps the change number')
})

t.test('npm start runs end to end on the sample', async t => {
  const tmp = tmpDir(t)
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), 'examples/demo.ts', '--sample'], {
      cwd: root, env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    p.on('error', reject)
    p.on('close', code => resolve({ code, stdout, stderr }))
  })
  t.equal(res.code, 0, 'exits 0')
  t.equal(res.stderr, '', 'nothing on stderr')
  for (const s of ['The table', 'Building the indexes', 'Queries', 'Index stats', 'Updates', 'Compaction', 'Try next']) {
    t.match(res.stdout, `\n== ${s} ==\n`, `prints the section ${s}`)
  }
  t.match(res.stdout, '2,000 cities (the sample in fixtures/)', 'ran on the sample')
  t.match(res.stdout, 'Paris (FR-11)', 'found Paris by id')
  t.match(res.stdout, 'resumes the feed at change 204', 'read the change numbers back')
  t.match(res.stdout, 'Index.verify of all six files: ok', 'every file verifies')
  t.match(res.stdout, 'bin/tailroot stats demo-output/', 'says what to try next')
  t.notMatch(res.stdout, '\x1b', 'no progress bar when stdout is not a terminal')
  // (tsx keeps its cache there too.)
  t.same(fs.readdirSync(tmp).filter(f => f.startsWith('tailroot-demo-')), [], 'the temporary directory is removed')
})
