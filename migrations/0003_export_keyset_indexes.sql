DROP INDEX "billing_ledger_org_created_idx";--> statement-breakpoint
DROP INDEX "usage_events_org_created_idx";--> statement-breakpoint
CREATE INDEX "billing_ledger_org_created_idx" ON "billing_ledger" USING btree ("org_id","created_at","id");--> statement-breakpoint
CREATE INDEX "usage_events_org_created_idx" ON "usage_events" USING btree ("org_id","created_at","request_id");