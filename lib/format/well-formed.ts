/** Whether a JavaScript string is well-formed UTF-16 (no lone surrogate), so it has a UTF-8 form. Pure. */

const SURROGATE = /[\ud800-\udfff]/

export function isWellFormed(s: string): boolean {
  if (!SURROGATE.test(s)) return true
  const f = (s as unknown as { isWellFormed?: () => boolean }).isWellFormed
  if (f) return f.call(s)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) return false
  }
  return true
}
