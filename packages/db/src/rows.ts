/** The rows of a `db.execute(sql…)` result: node-postgres answers `{ rows }`, as does PGlite. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}
