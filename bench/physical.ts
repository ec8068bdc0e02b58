// The machine's physical limits, measured in the benchmark's own temp directory
// (the file system and device the engines write to). The two sync probes run
// before each engine's runs, the bandwidth probe after all of them (n = 1,000
// ops, 256 MiB; --quick: 200 ops, 64 MiB):
//   - fdatasync after a 4 KiB append: a new file, n times (write 4 KiB at the
//     end, fdatasync); every sync also has to update the file's size;
//   - fdatasync after a 4 KiB overwrite: a file of 1 MiB written and fsynced
//     first, then n times (overwrite one 4 KiB page of it, in turn, fdatasync);
//     the floor for a durable commit that writes one page in place;
//   - sequential write bandwidth: `bytes` written in 1 MiB writes to a new
//     file, then one fdatasync; bytes / seconds of both (MB = 10^6 bytes).
//     It runs after every engine's children: on a virtual disk, 256 MiB just
//     written and synced can slow every fdatasync of the next 5 to 10 seconds
//     (the host still writing them back). Measured here before each engine, it
//     put W5's p99 at 2 to 3.5 ms instead of about 0.4 ms, and hit whichever
//     engine's W5 came soonest after it hardest.
// The per-op figures are means: 1e6 / (ops per second).

import fs from 'node:fs'
import path from 'node:path'

/** The sync probes, measured before each engine's runs. */
export interface PhysicalSample {
  appendSyncPerSec: number
  overwriteSyncPerSec: number
}

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9
}

function withFile<T>(file: string, fn: (fd: number) => T): T {
  const fd = fs.openSync(file, 'w')
  try {
    return fn(fd)
  } finally {
    fs.closeSync(fd)
    fs.rmSync(file, { force: true })
  }
}

export function appendSyncRate(dir: string, n: number): number {
  const page = Buffer.alloc(4096, 0x5a)
  return withFile(path.join(dir, 'probe-append'), (fd) => {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      fs.writeSync(fd, page, 0, page.length, i * page.length)
      fs.fdatasyncSync(fd)
    }
    return n / seconds(t0)
  })
}

export function overwriteSyncRate(dir: string, n: number): number {
  const page = Buffer.alloc(4096, 0xa5)
  const pages = 256
  return withFile(path.join(dir, 'probe-overwrite'), (fd) => {
    fs.writeSync(fd, Buffer.alloc(pages * page.length), 0, pages * page.length, 0)
    fs.fsyncSync(fd)
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      fs.writeSync(fd, page, 0, page.length, (i % pages) * page.length)
      fs.fdatasyncSync(fd)
    }
    return n / seconds(t0)
  })
}

export function sequentialWriteMBps(dir: string, bytes: number): number {
  const chunk = Buffer.alloc(1 << 20, 0x3c)
  return withFile(path.join(dir, 'probe-sequential'), (fd) => {
    const t0 = process.hrtime.bigint()
    let at = 0
    while (at < bytes) {
      at += fs.writeSync(fd, chunk, 0, chunk.length, at)
    }
    fs.fdatasyncSync(fd)
    return at / 1e6 / seconds(t0)
  })
}

/** The sync probes (before each engine's runs). */
export function measurePhysical(dir: string, quick: boolean): PhysicalSample {
  const ops = quick ? 200 : 1000
  return {
    appendSyncPerSec: appendSyncRate(dir, ops),
    overwriteSyncPerSec: overwriteSyncRate(dir, ops),
  }
}

/** The bandwidth probe (after every engine's runs: see the top of this file). */
export function measureBandwidth(dir: string, quick: boolean): number {
  return sequentialWriteMBps(dir, (quick ? 64 : 256) * 2 ** 20)
}
