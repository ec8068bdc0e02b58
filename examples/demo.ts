/**
 * A short tour: index a table of people by city and by age, then query it the way an app would.
 * Run with `npm start`. Everything happens in a temporary directory that is removed afterwards.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Index } from '../lib/index.ts'

const CITIES = ['Lyon', 'Paris', 'Marseille', 'Lille', 'Nantes', 'Bordeaux', 'Toulouse', 'Nice']
const FIRST = ['Ada', 'Blaise', 'Claire', 'Denis', 'Emma', 'Farid', 'Gaëlle', 'Hugo', 'Inès', 'Jules']

// A deterministic table: rowId -> { name, city, age }.
let seed = 42
const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor((seed / 2147483648) * n) }
const table = Array.from({ length: 20000 }, (_, id) => ({
  id, name: `${FIRST[rand(FIRST.length)]} ${id}`, city: CITIES[rand(CITIES.length)]!, age: 18 + rand(60),
}))

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailroot-demo-'))
try {
  const t0 = performance.now()
  // Bulk-build the city index in one commit (input need not be sorted).
  const byCity = Index.build(path.join(dir, 'people.city.idx'), table.map(r => [r.city, r.id] as const))
  // Ages as fixed-width strings keep numeric order; a typed-key API comes later.
  const byAge = Index.build(path.join(dir, 'people.age.idx'), table.map(r => [String(r.age).padStart(3, '0'), r.id] as const))
  console.log(`indexed ${table.length} rows twice in ${(performance.now() - t0).toFixed(0)} ms`)

  console.log(`rows in Lyon: ${byCity.count('Lyon')}`)
  const page = [...byCity.range({ gte: 'Lyon', lte: 'Lyon', offset: 400, limit: 5 })].map(([, id]) => table[id]!.name)
  console.log('page 81 of the people in Lyon (5 per page):', page)
  console.log(`aged 30 to 40: ${byAge.countRange({ gte: '030', lte: '040' })}`)
  const oldest = [...byAge.range({ reverse: true, limit: 3 })].map(([age, id]) => `${table[id]!.name} (${Number(age)})`)
  console.log('three oldest:', oldest)

  // A durable single insert, then a transaction that moves a person from Lyon to Paris atomically.
  table.push({ id: 20000, name: 'Zoé 20000', city: 'Lyon', age: 31 })
  byCity.insert('Lyon', 20000)
  byCity.transaction(tx => {
    tx.delete('Lyon', 20000)
    tx.insert('Paris', 20000)
  })
  console.log(`after the move: Lyon ${byCity.count('Lyon')}, Paris has 20000: ${byCity.has('Paris', 20000)}, commit ${byCity.sequence}`)
  console.log('verify:', Index.verify(byCity.path).ok ? 'ok' : 'FAILED')
  byCity.close()
  byAge.close()
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
