ALTER TABLE "quarantine" ADD COLUMN "payload_sha256" "bytea";--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "times_seen" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "last_received_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
-- Rows from before: each was received once, at received_at (not at migration time).
UPDATE "quarantine" SET "last_received_at" = "received_at";--> statement-breakpoint
CREATE INDEX "quarantine_last_received_idx" ON "quarantine" USING btree ("last_received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "quarantine_payload_key" ON "quarantine" USING btree ("topic","reason","payload_sha256");