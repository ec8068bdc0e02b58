/**
 * What the output of spec/helpers/children/async-writer.ts requires of the file: the pairs whose
 * insert resolved (and whose delete was never queued), the pairs and groups whose delete
 * resolved, and the transactions that resolved. `check` compares a file with it: every required
 * pair and transaction present and whole, nothing deleted back, no transaction there in part,
 * nothing of a transaction that threw, and the file verifies.
 */
import { Index } from '../../lib/index.ts'
import { listIndex } from './pair-set.ts'

// Mirrors async-writer.ts.
const GROUP = 5
const BULK = 40

export class AsyncLedger {
  /** Pairs that must be present, as `key\trowId`. */
  readonly present = new Set<string>()
  /** Pairs and group keys that must be absent. */
  readonly absent = new Set<string>()
  /** Transactions (group keys, bulk prefixes) that must be present. */
  readonly groups = new Set<string>()
  /** Resolved calls read so far. */
  resolved = 0

  /** Reads a child's lines; returns the first line it does not understand, or null. */
  read(lines: string[]): string | null {
    for (const line of lines) {
      const [word, a, b] = line.split(' ')
      if (word === 'ready' || word === 'done') continue
      if (word === 'ins') { this.present.add(`${a}\t${b}`); this.resolved++ } else if (word === 'try-del') this.present.delete(`${a}\t${b}`)
      else if (word === 'del') { this.absent.add(`${a}\t${b}`); this.resolved++ } else if (word === 'try-drop') this.groups.delete(a!)
      else if (word === 'tx') {
        const tx = JSON.parse(line.slice(3)) as { group?: string; bulk?: string; dropped?: string }
        if (tx.group !== undefined) this.groups.add(tx.group)
        if (tx.bulk !== undefined) this.groups.add(tx.bulk)
        if (tx.dropped !== undefined) this.absent.add(tx.dropped)
        this.resolved++
      } else {
        return line
      }
    }
    return null
  }

  /** What is wrong with the file, or null. */
  check(file: string): string | null {
    const idx = Index.open(file, { readOnly: true })
    const lines = listIndex(idx)
    idx.close()
    const have = new Set(lines)
    const missing = [...this.present].filter(p => !have.has(p))
    if (missing.length > 0) return `resolved inserts missing: ${missing.slice(0, 5).join(', ')}`
    const counts = new Map<string, number>()
    const resurrected: string[] = []
    for (const l of lines) {
      if (this.absent.has(l)) resurrected.push(l)
      const k = l.slice(0, l.indexOf('\t'))
      const g = k.startsWith('g/') || k.startsWith('x/') ? k : k.startsWith('b/') ? k.slice(0, k.indexOf('/', 2) + 1) : null
      if (g !== null) counts.set(g, (counts.get(g) ?? 0) + 1)
    }
    if (resurrected.length > 0) return `pairs whose delete resolved are back: ${resurrected.slice(0, 5).join(', ')}`
    const bad: string[] = []
    for (const [g, n] of counts) {
      if (g.startsWith('x/')) bad.push(`${g}: a transaction that threw left ${n} pairs`)
      else if (n !== (g.startsWith('g/') ? GROUP : BULK)) bad.push(`${g} has ${n} pairs`)
      else if (this.absent.has(g)) bad.push(`${g} was dropped by a resolved transaction but is there`)
    }
    for (const g of this.groups) if (!counts.has(g)) bad.push(`${g}: its transaction resolved but it is absent`)
    if (bad.length > 0) return `partial or lost transactions: ${bad.slice(0, 5).join('; ')}`
    const v = Index.verify(file)
    if (!v.ok || v.entries !== lines.length) return `verify: ${JSON.stringify(v).slice(0, 3000)}`
    return null
  }
}
