// Bytes written to the block device that holds a directory, from the
// sectors-written counter of /proc/diskstats (field 10: 512-byte sectors,
// whatever the device's own sector size), read after a sync.
//
// The device is found from the directory's st_dev (major:minor): the line of
// /proc/diskstats with the same major and minor, which is a partition when the
// file system is on one (its counter then covers that partition only). The
// counter is the whole device's: writes of other processes to the same file
// system in the same interval are counted too. Where there is no such line (no
// /proc/diskstats, or a file system with no block device of its own: tmpfs,
// overlayfs, btrfs subvolumes, network file systems) the figure is null ("n/a").

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

export const SECTOR_BYTES = 512

export interface DiskDevice {
  major: number
  minor: number
  name: string
}

/** Linux dev_t -> major, minor (glibc's encoding, as st_dev carries it). */
function splitDev(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn))
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn))
  return { major, minor }
}

function readDiskstats(): string[][] | null {
  try {
    return fs
      .readFileSync('/proc/diskstats', 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 10)
  } catch {
    return null
  }
}

/** The device of dir's file system as /proc/diskstats names it, or null. */
export function deviceOf(dir: string): DiskDevice | null {
  const { major, minor } = splitDev(fs.statSync(dir, { bigint: true }).dev)
  const lines = readDiskstats()
  if (lines === null) return null
  for (const f of lines) {
    if (Number(f[0]) === major && Number(f[1]) === minor) return { major, minor, name: f[2]! }
  }
  return null
}

/** The sectors-written counter of dev, or null when it cannot be read. */
function sectorsWritten(dev: DiskDevice): number | null {
  const lines = readDiskstats()
  if (lines === null) return null
  for (const f of lines) {
    if (Number(f[0]) === dev.major && Number(f[1]) === dev.minor) return Number(f[9])
  }
  return null
}

/** fsync of dir, then the `sync` command (all file systems), waiting for both. */
export function syncAll(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // a directory that cannot be fsynced: the sync command below still flushes it
  }
  try {
    execFileSync('sync', [], { stdio: 'ignore' })
  } catch {
    // no sync command: the fsync above is all there is
  }
}

/** A reading of the device counter after a sync: device bytes written so far, or null. */
export function deviceBytesNow(dir: string, dev: DiskDevice | null): number | null {
  if (dev === null) return null
  syncAll(dir)
  const s = sectorsWritten(dev)
  return s === null ? null : s * SECTOR_BYTES
}

/**
 * The bytes this process has caused to be written to storage so far (write_bytes of
 * /proc/self/io, counted when pages are dirtied, so a page dirtied twice before writeback counts
 * twice), or null where there is no such file. Unlike the device counter, other processes'
 * writes are not in it; an engine's background threads (LevelDB's compactions) are.
 */
export function processWriteBytes(): number | null {
  try {
    const m = /^write_bytes:\s*(\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'))
    return m === null ? null : Number(m[1])
  } catch {
    return null
  }
}
