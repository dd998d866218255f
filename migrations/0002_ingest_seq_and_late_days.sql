CREATE TABLE "telemetry_late_days" (
	"vehicle_id" uuid NOT NULL,
	"day" date NOT NULL,
	"marked_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "telemetry_late_days_pkey" PRIMARY KEY("vehicle_id","day")
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "seq_first" bigint;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "seq_max" bigint;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "seq_received" bigint DEFAULT 0 NOT NULL;