/** A change that is not effective where it is applied: the log and the changes disagree. */
export class LogConflict extends Error {
  readonly key: string
  readonly rowId: number
  constructor(key: string, rowId: number, what: string) {
    super(what)
    this.key = key
    this.rowId = rowId
  }
}
