-- Time partitioning of usage_events (monthly) and request_logs (daily), hand-written: drizzle-kit
-- does not model partitions. A partitioned table's primary key must contain the partition key, so
-- both become PRIMARY KEY (request_id, created_at); created_at is fixed when the row is built and
-- travels with it, so a replayed row still conflicts with itself. Existing rows are copied into
-- partitions covering their months/days. The gateway's partition job (services/maintenance)
-- creates partitions ahead of time and drops expired request_logs days; writers also create a
-- missing partition on demand, so an insert never fails for lack of one.

-- portal_ensure_partition('usage_events', 'month', ts) → name of the partition holding ts (UTC
-- month or day), created if missing. Serialized per partition by a transaction advisory lock, so
-- concurrent writers and jobs on many instances never race on CREATE TABLE.
CREATE OR REPLACE FUNCTION portal_ensure_partition(parent text, unit text, at timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  t timestamp := at AT TIME ZONE 'UTC';
  lo timestamp;
  hi timestamp;
  part text;
BEGIN
  IF unit = 'month' THEN
    lo := date_trunc('month', t);
    hi := lo + interval '1 month';
    part := parent || '_p' || to_char(lo, 'YYYYMM');
  ELSIF unit = 'day' THEN
    lo := date_trunc('day', t);
    hi := lo + interval '1 day';
    part := parent || '_p' || to_char(lo, 'YYYYMMDD');
  ELSE
    RAISE EXCEPTION 'portal_ensure_partition: unknown unit %', unit;
  END IF;
  IF to_regclass(quote_ident(part)) IS NOT NULL THEN
    RETURN part;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('portal_partition:' || part));
  IF to_regclass(quote_ident(part)) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
      part, parent, lo::text || '+00', hi::text || '+00');
  END IF;
  RETURN part;
END
$$;
--> statement-breakpoint
DROP INDEX "usage_events_org_created_idx";--> statement-breakpoint
DROP INDEX "usage_events_key_created_idx";--> statement-breakpoint
ALTER TABLE "usage_events" RENAME TO "usage_events_unpartitioned";--> statement-breakpoint
CREATE TABLE "usage_events" (
	"request_id" text NOT NULL,
	"org_id" text NOT NULL,
	"api_key_id" text NOT NULL,
	"model_alias" text NOT NULL,
	"router_pool" text NOT NULL,
	"router_target_id" text,
	"route" text NOT NULL,
	"status" "usage_status" NOT NULL,
	"error_code" text,
	"prompt_tokens" integer NOT NULL,
	"completion_tokens" integer NOT NULL,
	"cost_micros" bigint NOT NULL,
	"latency_ms" integer NOT NULL,
	"upstream_ms" integer NOT NULL,
	"stream" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "usage_events_request_id_created_at_pk" PRIMARY KEY("request_id","created_at")
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
CREATE INDEX "usage_events_org_created_idx" ON "usage_events" USING btree ("org_id","created_at");--> statement-breakpoint
CREATE INDEX "usage_events_key_created_idx" ON "usage_events" USING btree ("api_key_id","created_at");--> statement-breakpoint
DO $$
DECLARE m timestamptz;
BEGIN
  FOR m IN
    SELECT DISTINCT created_at FROM (
      SELECT date_trunc('month', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS created_at
      FROM usage_events_unpartitioned
      UNION ALL
      SELECT now() + make_interval(months => g) FROM generate_series(0, 3) AS g
    ) AS months
  LOOP
    PERFORM portal_ensure_partition('usage_events', 'month', m);
  END LOOP;
END
$$;
--> statement-breakpoint
INSERT INTO "usage_events" SELECT * FROM "usage_events_unpartitioned";--> statement-breakpoint
DROP TABLE "usage_events_unpartitioned";--> statement-breakpoint
DROP INDEX "request_logs_created_idx";--> statement-breakpoint
DROP INDEX "request_logs_org_created_idx";--> statement-breakpoint
ALTER TABLE "request_logs" RENAME TO "request_logs_unpartitioned";--> statement-breakpoint
CREATE TABLE "request_logs" (
	"request_id" text NOT NULL,
	"org_id" text,
	"api_key_id" text,
	"method" text NOT NULL,
	"route" text NOT NULL,
	"http_status" integer NOT NULL,
	"error_code" text,
	"model_alias" text,
	"latency_ms" integer NOT NULL,
	"overhead_ms" integer,
	"client_ip" text,
	"user_agent" text,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "request_logs_request_id_created_at_pk" PRIMARY KEY("request_id","created_at")
) PARTITION BY RANGE ("created_at");
--> statement-breakpoint
CREATE INDEX "request_logs_created_idx" ON "request_logs" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "request_logs_org_created_idx" ON "request_logs" USING btree ("org_id","created_at");--> statement-breakpoint
DO $$
DECLARE d timestamptz;
BEGIN
  FOR d IN
    SELECT DISTINCT created_at FROM (
      SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS created_at
      FROM request_logs_unpartitioned
      UNION ALL
      SELECT now() + make_interval(days => g) FROM generate_series(0, 7) AS g
    ) AS days
  LOOP
    PERFORM portal_ensure_partition('request_logs', 'day', d);
  END LOOP;
END
$$;
--> statement-breakpoint
INSERT INTO "request_logs" SELECT * FROM "request_logs_unpartitioned";--> statement-breakpoint
DROP TABLE "request_logs_unpartitioned";
