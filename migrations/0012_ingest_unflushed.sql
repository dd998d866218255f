CREATE TABLE "ingest_unflushed" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"figures" text NOT NULL
);
--> statement-breakpoint
-- Written with every ingest batch and read only when a worker recovers what another left
-- behind: compressing it would cost every batch and save nothing worth having.
ALTER TABLE "ingest_unflushed" ALTER COLUMN "figures" SET STORAGE EXTERNAL;
