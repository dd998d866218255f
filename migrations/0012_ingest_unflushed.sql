CREATE TABLE "ingest_unflushed" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"figures" text NOT NULL
);
--> statement-breakpoint
-- Written with every ingest batch and read only when a worker recovers what another left
-- behind: compressing it would cost every batch and save nothing worth having.
ALTER TABLE "ingest_unflushed" ALTER COLUMN "figures" SET STORAGE EXTERNAL;
--> statement-breakpoint
-- Rewritten in place about once a second per reporting vehicle and tracker (the ingest's
-- latest state): room on each page lets PostgreSQL update a row without touching its
-- indexes (a heap-only tuple), since none of the columns it changes is indexed.
ALTER TABLE "vehicle_latest" SET (fillfactor = 50);
--> statement-breakpoint
ALTER TABLE "devices" SET (fillfactor = 70);
