ALTER TABLE "quarantine" ADD COLUMN "payload_sha256" "bytea";--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "times_seen" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "quarantine" ADD COLUMN "last_received_at" timestamp with time zone;--> statement-breakpoint
CREATE UNIQUE INDEX "quarantine_payload_key" ON "quarantine" USING btree ("topic","reason","payload_sha256");