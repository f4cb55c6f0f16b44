CREATE TYPE "public"."stripe_outbox_status" AS ENUM('pending', 'sent', 'failed');--> statement-breakpoint
CREATE TABLE "stripe_customers" (
	"org_id" text PRIMARY KEY NOT NULL,
	"customer_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stripe_outbox" (
	"id" text PRIMARY KEY NOT NULL,
	"org_id" text NOT NULL,
	"model_alias" text NOT NULL,
	"period_start" timestamp with time zone NOT NULL,
	"seq" integer NOT NULL,
	"value_micros" bigint NOT NULL,
	"identifier" text NOT NULL,
	"status" "stripe_outbox_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "billing_ledger" ADD COLUMN "period_start" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "billing_mode" "billing_mode";--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "charge_micros" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "usage_events" ADD COLUMN "billed_entry_id" text;--> statement-breakpoint
ALTER TABLE "stripe_customers" ADD CONSTRAINT "stripe_customers_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "stripe_outbox" ADD CONSTRAINT "stripe_outbox_org_id_organizations_id_fk" FOREIGN KEY ("org_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_customers_customer_uq" ON "stripe_customers" USING btree ("customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_outbox_identifier_uq" ON "stripe_outbox" USING btree ("identifier");--> statement-breakpoint
CREATE UNIQUE INDEX "stripe_outbox_key_uq" ON "stripe_outbox" USING btree ("org_id","model_alias","period_start","seq");--> statement-breakpoint
CREATE INDEX "stripe_outbox_due_idx" ON "stripe_outbox" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "usage_events_unbilled_idx" ON "usage_events" USING btree ("org_id","created_at") WHERE billed_entry_id IS NULL AND (charge_micros > 0 OR (billing_mode = 'postpaid' AND cost_micros > 0 AND status <> 'failed'));