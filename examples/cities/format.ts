/** How the demo prints figures and rows. */
import type { City } from './table.ts'

export const n = (v: number): string => v.toLocaleString('en-US')

export function ms(v: number): string {
  return v < 10 ? `${v.toFixed(2)} ms` : `${n(Math.round(v))} ms`
}

export function bytes(v: number): string {
  if (v < 1024) return `${v} B`
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`
  return `${(v / 1024 / 1024).toFixed(2)} MiB`
}

export function city(c: City): string {
  return `${c.name} (${c.country}${c.admin === '' ? '' : `-${c.admin}`}) pop. ${n(c.population)}, GeoNames id ${c.id}`
}

/** A table of rows, columns padded (numbers right-aligned). */
export function columns(rows: (string | number)[][]): string[] {
  const cells = rows.map(r => r.map(v => (typeof v === 'number' ? n(v) : v)))
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map(r => r[i]!.length)))
  return cells.map(r => r.map((v, i) => (typeof rows[1]?.[i] === 'number' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd())
}
