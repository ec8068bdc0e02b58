// The benchmark's markdown report: the figures table (rows = figures, columns =
// engines, medians over the repeats, the best of each row in bold), the ratio
// table (tailroot ÷ the best peer, and every engine's min..max), the physical
// limits, strace's syncs per commit, and the issue's targets with their ratios.

import type { BenchData } from './data.ts'
import { payloadBytes, rawBytes } from './data.ts'
import type { PhysicalSample } from './physical.ts'
import { W8_WARM_ROUNDS, type FigureId, type Sample } from './workloads.ts'

export interface FigureSpec {
  id: FigureId
  title: (d: BenchData) => string
  better: 'higher' | 'lower'
  format: (v: number, d: BenchData) => string
  /** the format of the min..max columns, when shorter than format */
  short?: (v: number) => string
}

export const int = (v: number): string => Math.round(v).toLocaleString('en-US')
export const fixed = (v: number, digits: number): string =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const count = (v: number): string => v.toLocaleString('en-US')

/** 1.97M, 898k, 61.7k, 4,857, 12.3 */
export function rate(v: number): string {
  if (v >= 1e6) return fixed(v / 1e6, 2) + 'M'
  if (v >= 1e5) return int(v / 1e3) + 'k'
  if (v >= 1e4) return fixed(v / 1e3, 1) + 'k'
  if (v >= 100) return int(v)
  return fixed(v, 1)
}

export function bytes(v: number): string {
  const a = Math.abs(v)
  if (a >= 2 ** 30) return fixed(v / 2 ** 30, 2) + ' GiB'
  if (a >= 2 ** 20) return fixed(v / 2 ** 20, 1) + ' MiB'
  if (a >= 2 ** 10) return fixed(v / 2 ** 10, 1) + ' KiB'
  return int(v) + ' B'
}

export const FIGURES: FigureSpec[] = [
  { id: 'w1EntriesPerSec', title: () => 'W1 bulk load, entries/s', better: 'higher', format: rate },
  {
    id: 'w1Bytes',
    title: () => 'W1 bytes on disk (× raw)',
    better: 'lower',
    format: (v, d) => `${bytes(v)} (${fixed(v / rawBytes(d), 2)}×)`,
    short: bytes,
  },
  { id: 'w2EntriesPerSec', title: (d) => `W2 random inserts, ${count(d.sizes.batchSize)} per durable commit, entries/s`, better: 'higher', format: rate },
  {
    id: 'w2DeviceBytes',
    title: () => 'W2 bytes written to the device (× payload)',
    better: 'lower',
    format: (v, d) => `${bytes(v)} (${fixed(v / payloadBytes(d), 1)}×)`,
    short: bytes,
  },
  {
    id: 'w2ProcessBytes',
    title: () => "W2 bytes the engine's process wrote (× payload)",
    better: 'lower',
    format: (v, d) => `${bytes(v)} (${fixed(v / payloadBytes(d), 1)}×)`,
    short: bytes,
  },
  { id: 'w2Bytes', title: () => 'W2 bytes on disk afterwards', better: 'lower', format: (v) => bytes(v) },
  { id: 'w2PeakRss', title: () => 'W2 run peak RSS (data + W2, one process)', better: 'lower', format: (v) => bytes(v) },
  { id: 'w3LookupsPerSec', title: () => 'W3 point lookups, all rowIds of a key, 10% absent, /s', better: 'higher', format: rate },
  { id: 'w4ScanEntriesPerSec', title: () => 'W4 full scan, entries/s', better: 'higher', format: rate },
  { id: 'w4ShortScansPerSec', title: (d) => `W4 short scans of ≤ ${d.sizes.shortScanLimit}, /s`, better: 'higher', format: rate },
  { id: 'w5CommitsPerSec', title: () => 'W5 durable single-pair commits, /s', better: 'higher', format: rate },
  { id: 'w5P50Us', title: () => 'W5 latency p50, µs', better: 'lower', format: (v) => int(v) },
  { id: 'w5P99Us', title: () => 'W5 latency p99, µs', better: 'lower', format: (v) => int(v) },
  { id: 'w5WarmCommitsPerSec', title: () => 'W5 warm (the same commits again, same process), /s', better: 'higher', format: rate },
  { id: 'w5WarmP50Us', title: () => 'W5 warm latency p50, µs', better: 'lower', format: (v) => int(v) },
  { id: 'w5WarmP99Us', title: () => 'W5 warm latency p99, µs', better: 'lower', format: (v) => int(v) },
  { id: 'w6Ms', title: () => 'W6 close, reopen, first lookup, ms (median of 5)', better: 'lower', format: (v) => fixed(v, 2) },
  { id: 'w7EntriesPerSec', title: (d) => `W7 delete half, ${count(d.sizes.batchSize)} per durable commit, entries/s`, better: 'higher', format: rate },
  { id: 'w7DeviceBytes', title: () => 'W7 bytes written to the device', better: 'lower', format: (v) => bytes(v) },
  { id: 'w7ProcessBytes', title: () => "W7 bytes the engine's process wrote", better: 'lower', format: (v) => bytes(v) },
  { id: 'w7Bytes', title: () => 'W7 bytes on disk afterwards', better: 'lower', format: (v) => bytes(v) },
  { id: 'readPeakRss', title: () => 'peak RSS of the W1, W3–W6 run (data + those, one process)', better: 'lower', format: (v) => bytes(v) },
  {
    id: 'w8WritesPerSec',
    title: (d) => `W8 ${d.sizes.callers} concurrent callers × ${count(d.sizes.writesPerCaller)} awaited durable single-pair writes, writes/s`,
    better: 'higher',
    format: rate,
  },
  { id: 'w8P50Us', title: () => 'W8 latency p50, µs', better: 'lower', format: (v) => int(v) },
  { id: 'w8P99Us', title: () => 'W8 latency p99, µs', better: 'lower', format: (v) => int(v) },
  {
    id: 'w8WarmWritesPerSec',
    title: () => `W8 warm (round ${W8_WARM_ROUNDS + 1} in the same process, a fresh store each), writes/s`,
    better: 'higher',
    format: rate,
  },
  { id: 'w8WarmP50Us', title: () => 'W8 warm latency p50, µs', better: 'lower', format: (v) => int(v) },
  { id: 'w8WarmP99Us', title: () => 'W8 warm latency p99, µs', better: 'lower', format: (v) => int(v) },
]

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export interface EngineColumn {
  name: string
  title: string
  samples: Sample[]
}

function values(col: EngineColumn, id: FigureId): number[] {
  return col.samples.map((s) => s[id]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
}

export function medianOf(col: EngineColumn | undefined, id: FigureId): number | null {
  if (!col) return null
  const vs = values(col, id)
  return vs.length > 0 ? median(vs) : null
}

function isBetter(spec: FigureSpec, a: number, b: number): boolean {
  return spec.better === 'higher' ? a > b : a < b
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

/** Rows = figures, columns = engines, medians, the best of each row in bold. */
export function figuresTable(cols: EngineColumn[], data: BenchData): string[] {
  const out = [row(['figure', ...cols.map((c) => c.title)]), row(['---', ...cols.map(() => '---:')])]
  for (const spec of FIGURES) {
    const meds = cols.map((c) => medianOf(c, spec.id))
    if (meds.every((m) => m === null) && cols.every((c) => c.samples.every((s) => !(spec.id in s)))) continue
    let best: number | null = null
    for (const m of meds) if (m !== null && (best === null || isBetter(spec, m, best))) best = m
    const cells = meds.map((m) => {
      if (m === null) return 'n/a'
      const text = spec.format(m, data)
      return m === best && cols.length > 1 ? `**${text}**` : text
    })
    out.push(row([spec.title(data), ...cells]))
  }
  return out
}

/** tailroot ÷ the best peer per figure, and every engine's min..max over the repeats. */
export function ratioTable(cols: EngineColumn[], data: BenchData): string[] {
  const tr = cols.find((c) => c.name === 'tailroot')
  const peers = cols.filter((c) => c.name !== 'tailroot')
  const out = [
    row(['figure', 'better', 'tailroot ÷ best peer', ...cols.map((c) => `${c.title} min..max`)]),
    row(['---', '---', '---:', ...cols.map(() => '---:')]),
  ]
  for (const spec of FIGURES) {
    if (cols.every((c) => values(c, spec.id).length === 0)) continue
    const t = medianOf(tr, spec.id)
    let best: number | null = null
    let bestName = ''
    for (const p of peers) {
      const m = medianOf(p, spec.id)
      if (m !== null && (best === null || isBetter(spec, m, best))) {
        best = m
        bestName = p.title
      }
    }
    const ratio = t === null || best === null || best === 0 ? 'n/a' : `${fixed(t / best, 2)}× (${bestName})`
    const spreads = cols.map((c) => {
      const vs = values(c, spec.id)
      if (vs.length === 0) return 'n/a'
      const f = spec.short ?? ((v: number) => spec.format(v, data))
      return `${f(Math.min(...vs))} .. ${f(Math.max(...vs))}`
    })
    out.push(row([spec.title(data), spec.better, ratio, ...spreads]))
  }
  return out
}

export function physicalTable(samples: PhysicalSample[], seqWriteMBps: number[], baselineRss: number[]): string[] {
  const out = [row(['physical limit (same device, same run)', 'median', 'min..max']), row(['---', '---:', '---:'])]
  const line = (title: string, vs: number[], f: (v: number) => string, short: (v: number) => string = f): void => {
    if (vs.length === 0) return
    out.push(row([title, f(median(vs)), `${short(Math.min(...vs))} .. ${short(Math.max(...vs))}`]))
  }
  const perOp = (v: number): string => `${int(1e6 / v)} µs (${int(v)}/s)`
  const perSec = (v: number): string => `${int(v)}/s`
  line(`fdatasync after a 4 KiB append (${samples.length} runs)`, samples.map((s) => s.appendSyncPerSec), perOp, perSec)
  line(`fdatasync after a 4 KiB overwrite (${samples.length} runs)`, samples.map((s) => s.overwriteSyncPerSec), perOp, perSec)
  line(`sequential write + fdatasync, MB/s (${seqWriteMBps.length} runs, after the engines')`, seqWriteMBps, (v) => int(v))
  line('harness baseline peak RSS (a child that makes the data, no engine)', baselineRss, bytes)
  return out
}

export interface StraceCounts {
  /** sync calls per commit, by call name, for W5 (single-pair commits) and W2 (commits of 1,000); per write for W8 */
  w5: Record<string, number>
  w2: Record<string, number>
  w8: Record<string, number>
}

export function straceTable(
  cols: EngineColumn[],
  results: Map<string, StraceCounts | string>,
  commits: { single: number; batches: number; callers: number; perCaller: number },
): string[] {
  const out = [row(['syncs per commit (strace -f)', ...cols.map((c) => c.title)]), row(['---', ...cols.map(() => '---:')])]
  const cell = (r: StraceCounts | string | undefined, which: 'w5' | 'w2' | 'w8'): string => {
    if (r === undefined) return 'n/a'
    if (typeof r === 'string') return r
    const c = r[which]
    const total = Object.values(c).reduce((a, b) => a + b, 0)
    const digits = which === 'w8' ? 3 : 2
    const parts = Object.entries(c)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${fixed(v, digits)}`)
    // W8: per write, so also how many writes share one sync
    if (which === 'w8' && total > 0) parts.push(`${fixed(1 / total, 1)} writes per sync`)
    return `${fixed(total, digits)}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`
  }
  out.push(row([`W5, ${commits.single} single-pair commits`, ...cols.map((c) => cell(results.get(c.name), 'w5'))]))
  out.push(row([`W2, ${commits.batches} commits of 1,000 pairs`, ...cols.map((c) => cell(results.get(c.name), 'w2'))]))
  out.push(row([`W8, per write, ${commits.callers} concurrent callers × ${commits.perCaller} writes`, ...cols.map((c) => cell(results.get(c.name), 'w8'))]))
  return out
}

/** The issue's targets, as ratios of this run's medians (information only: the bench never fails on time). */
export function targetLines(cols: EngineColumn[], data: BenchData, physical: PhysicalSample[]): string[] {
  const byName = new Map(cols.map((c) => [c.name, c]))
  const m = (engine: string, id: FigureId): number | null => medianOf(byName.get(engine), id)
  const peers = cols.filter((c) => c.name !== 'tailroot').map((c) => c.name)
  const bestPeer = (id: FigureId, better: 'higher' | 'lower'): { v: number; name: string } | null => {
    let best: { v: number; name: string } | null = null
    for (const p of peers) {
      const v = m(p, id)
      if (v !== null && (best === null || (better === 'higher' ? v > best.v : v < best.v))) best = { v, name: byName.get(p)!.title }
    }
    return best
  }
  const out: string[] = []
  const tr = (id: FigureId): number | null => m('tailroot', id)
  // Targets on a figure of tailroot's that no engine measured (a workload not selected) are left out.
  const measured = (id: FigureId): boolean => cols.some((c) => c.samples.some((s) => id in s))
  const target = (text: string, id: FigureId, want: number | null, goal: number, better: 'higher' | 'lower', what: string): void => {
    if (!measured(id)) return
    const have = tr(id)
    if (have === null || want === null || want === 0) {
      out.push(`- ${text}: n/a`)
      return
    }
    const r = have / want
    const met = better === 'higher' ? r >= goal : r <= goal
    out.push(`- ${text}: ${fixed(r, 2)}× ${what} (target ${better === 'higher' ? '≥' : '≤'} ${goal}×): ${met ? 'met' : 'missed'}`)
  }
  const overwrite = physical.length > 0 ? median(physical.map((p) => p.overwriteSyncPerSec)) : null
  const bp = (id: FigureId, better: 'higher' | 'lower'): [number | null, string] => {
    const b = bestPeer(id, better)
    return [b ? b.v : null, b ? b.name : 'best peer']
  }
  let [v, n] = bp('w5CommitsPerSec', 'higher')
  target('W5 commits/s ≥ the best peer', 'w5CommitsPerSec', v, 1, 'higher', `of ${n}`)
  target('W5 commits/s ≥ 90% of 4 KiB overwrite + fdatasync', 'w5CommitsPerSec', overwrite, 0.9, 'higher', 'of the overwrite rate')
  target('W5 p99 ≤ 3× p50', 'w5P99Us', tr('w5P50Us'), 3, 'lower', 'p50')
  // The same three on the warm figures: a process whose commit path has run before.
  ;[v, n] = bp('w5WarmCommitsPerSec', 'higher')
  target('W5 warm commits/s ≥ the best peer warm', 'w5WarmCommitsPerSec', v, 1, 'higher', `of ${n}`)
  target('W5 warm commits/s ≥ 90% of 4 KiB overwrite + fdatasync', 'w5WarmCommitsPerSec', overwrite, 0.9, 'higher', 'of the overwrite rate')
  target('W5 warm p99 ≤ 3× warm p50', 'w5WarmP99Us', tr('w5WarmP50Us'), 3, 'lower', 'p50')
  target('W2 entries/s ≥ LevelDB', 'w2EntriesPerSec', m('leveldb', 'w2EntriesPerSec'), 1, 'higher', 'of LevelDB')
  target('W7 entries/s ≥ LevelDB', 'w7EntriesPerSec', m('leveldb', 'w7EntriesPerSec'), 1, 'higher', 'of LevelDB')
  target('W2 bytes written to the device ≤ 2× LevelDB', 'w2DeviceBytes', m('leveldb', 'w2DeviceBytes'), 2, 'lower', 'of LevelDB')
  target("W2 bytes the process wrote ≤ 2× LevelDB's (other processes' writes excluded)", 'w2ProcessBytes', m('leveldb', 'w2ProcessBytes'), 2, 'lower', 'of LevelDB')
  ;[v, n] = bp('w2PeakRss', 'lower')
  target('W2 run peak RSS ≤ the best peer', 'w2PeakRss', v, 1, 'lower', `of ${n}`)
  ;[v, n] = bp('w1EntriesPerSec', 'higher')
  target('W1 entries/s ≥ 2× the best peer', 'w1EntriesPerSec', v, 2, 'higher', `of ${n}`)
  target('W3 lookups/s ≥ 1.5× lmdb', 'w3LookupsPerSec', m('lmdb', 'w3LookupsPerSec'), 1.5, 'higher', 'of lmdb')
  target('W4 full scan ≥ lmdb', 'w4ScanEntriesPerSec', m('lmdb', 'w4ScanEntriesPerSec'), 1, 'higher', 'of lmdb')
  target('W4 short scans ≥ lmdb', 'w4ShortScansPerSec', m('lmdb', 'w4ShortScansPerSec'), 1, 'higher', 'of lmdb')
  target('W1 size ≤ 1.3× raw', 'w1Bytes', rawBytes(data), 1.3, 'lower', 'raw')
  target("W6 ≤ SQLite's", 'w6Ms', m('sqlite', 'w6Ms'), 1, 'lower', 'of SQLite')
  target('W8 writes/s ≥ 2× lmdb', 'w8WritesPerSec', m('lmdb', 'w8WritesPerSec'), 2, 'higher', 'of lmdb')
  const under3ms = (text: string, id: FigureId): void => {
    const p99 = tr(id)
    if (measured(id)) out.push(`- ${text}: ${p99 === null ? 'n/a' : `${fixed(p99 / 1000, 2)} ms: ${p99 < 3000 ? 'met' : 'missed'}`}`)
  }
  under3ms('W8 p99 < 3 ms', 'w8P99Us')
  target('W8 warm writes/s ≥ 2× lmdb warm', 'w8WarmWritesPerSec', m('lmdb', 'w8WarmWritesPerSec'), 2, 'higher', 'of lmdb')
  under3ms('W8 warm p99 < 3 ms', 'w8WarmP99Us')
  return out
}
