/**
 * The database integration tests use: DATABASE_URL when set (real Postgres), PGlite otherwise.
 * In CI a missing DATABASE_URL is a failure, never a silent fallback.
 */
export function testDatabaseUrl(): string | undefined {
  const url = process.env.DATABASE_URL;
  if (!url && process.env.CI === "true") {
    throw new Error("CI=true but DATABASE_URL is not set: integration tests need real Postgres");
  }
  return url || undefined;
}
