/** Number formatting for the command's text output. */

/** 1234567 → "1,234,567". */
export function num(x: number): string {
  return x.toLocaleString('en-US')
}

/** A ratio as a percentage with one decimal. */
export function percent(r: number): string {
  return `${(r * 100).toFixed(1)}%`
}
