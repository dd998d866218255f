CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"department_id" uuid,
	"key_hash" text NOT NULL,
	"key_prefix" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "departments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "devices" (
	"id" text PRIMARY KEY NOT NULL,
	"vehicle_id" uuid NOT NULL,
	"protocol" text DEFAULT 'armada' NOT NULL,
	"secret_hash" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"topic" text NOT NULL,
	"device_id" text,
	"reason" text NOT NULL,
	"detail" text,
	"payload" "bytea" NOT NULL,
	"payload_bytes" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry" (
	"vehicle_id" uuid NOT NULL,
	"device_id" text NOT NULL,
	"fix_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"speed_kmh" real,
	"heading_deg" real,
	"altitude_m" real,
	"satellites" smallint,
	"hdop" real,
	"ignition" boolean,
	"odometer_km" double precision,
	"fuel_litres" real,
	"fuel_percent" real,
	"fuel_used_litres" double precision,
	"battery_v" real,
	"seq" bigint,
	"attributes" jsonb,
	CONSTRAINT "telemetry_pkey" PRIMARY KEY("vehicle_id","fix_at")
) PARTITION BY RANGE ("fix_at");
--> statement-breakpoint
CREATE TABLE "vehicle_latest" (
	"vehicle_id" uuid PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"fix_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"speed_kmh" real,
	"heading_deg" real,
	"fuel_litres" real,
	"fuel_percent" real,
	"ignition" boolean,
	"battery_v" real
);
--> statement-breakpoint
CREATE TABLE "vehicles" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"plate_number" text NOT NULL,
	"department_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"fuel_type" text NOT NULL,
	"tank_capacity_litres" real NOT NULL,
	"rated_litres_per_100km" real NOT NULL,
	"idle_litres_per_hour" real NOT NULL,
	"monthly_allocation_litres" real NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "vehicles_tank_positive" CHECK ("vehicles"."tank_capacity_litres" > 0)
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vehicle_latest" ADD CONSTRAINT "vehicle_latest_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vehicles" ADD CONSTRAINT "vehicles_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "departments_code_key" ON "departments" USING btree ("code");--> statement-breakpoint
CREATE INDEX "devices_vehicle_idx" ON "devices" USING btree ("vehicle_id");--> statement-breakpoint
CREATE INDEX "quarantine_received_idx" ON "quarantine" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "quarantine_reason_idx" ON "quarantine" USING btree ("reason");--> statement-breakpoint
CREATE UNIQUE INDEX "vehicles_plate_number_key" ON "vehicles" USING btree ("plate_number");--> statement-breakpoint
CREATE INDEX "vehicles_department_idx" ON "vehicles" USING btree ("department_id");