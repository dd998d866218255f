CREATE TABLE "analytics_vehicle_state" (
	"vehicle_id" uuid PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone,
	"computed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vehicle_day_rollups" (
	"vehicle_id" uuid NOT NULL,
	"day" date NOT NULL,
	"points" integer NOT NULL,
	"distance_km" double precision NOT NULL,
	"distance_outside_hours_km" double precision NOT NULL,
	"driving_s" double precision NOT NULL,
	"idle_s" double precision NOT NULL,
	"engine_s" double precision NOT NULL,
	"max_speed_kmh" real NOT NULL,
	"trip_count" integer NOT NULL,
	"fuel_source" text NOT NULL,
	"fuel_used_litres" double precision NOT NULL,
	"counter_litres" double precision,
	"sensor_litres" double precision,
	"rated_litres" double precision NOT NULL,
	"idle_litres" double precision NOT NULL,
	"refuel_count" integer NOT NULL,
	"refuel_litres" double precision NOT NULL,
	"drain_count" integer NOT NULL,
	"drain_litres" double precision NOT NULL,
	"start_level_litres" real,
	"end_level_litres" real,
	"first_fix_at" timestamp with time zone,
	"last_fix_at" timestamp with time zone,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "vehicle_day_rollups_pkey" PRIMARY KEY("vehicle_id","day")
);
--> statement-breakpoint
CREATE TABLE "vehicle_day_segments" (
	"vehicle_id" uuid NOT NULL,
	"day" date NOT NULL,
	"seq" smallint NOT NULL,
	"kind" text NOT NULL,
	"start_at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"clipped_start" boolean NOT NULL,
	"clipped_end" boolean NOT NULL,
	"distance_km" double precision NOT NULL,
	"max_speed_kmh" real NOT NULL,
	"fuel_used_litres" double precision NOT NULL,
	"start_lat" double precision NOT NULL,
	"start_lon" double precision NOT NULL,
	"end_lat" double precision NOT NULL,
	"end_lon" double precision NOT NULL,
	"driving_s" double precision NOT NULL,
	"idle_s" double precision NOT NULL,
	"engine_on_s" double precision NOT NULL,
	CONSTRAINT "vehicle_day_segments_pkey" PRIMARY KEY("vehicle_id","day","seq")
);
--> statement-breakpoint
CREATE TABLE "vehicle_fuel_events" (
	"vehicle_id" uuid NOT NULL,
	"day" date NOT NULL,
	"seq" smallint NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"end_at" timestamp with time zone NOT NULL,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"litres" double precision NOT NULL,
	"level_before_litres" real NOT NULL,
	"level_after_litres" real NOT NULL,
	"moving" boolean NOT NULL,
	CONSTRAINT "vehicle_fuel_events_pkey" PRIMARY KEY("vehicle_id","day","seq")
);
--> statement-breakpoint
ALTER TABLE "analytics_vehicle_state" ADD CONSTRAINT "analytics_vehicle_state_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vehicle_day_rollups" ADD CONSTRAINT "vehicle_day_rollups_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "vehicle_day_rollups_day_idx" ON "vehicle_day_rollups" USING btree ("day");--> statement-breakpoint
CREATE INDEX "vehicle_fuel_events_at_idx" ON "vehicle_fuel_events" USING btree ("vehicle_id","at");