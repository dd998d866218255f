CREATE TABLE "vehicle_month_rollups" (
	"vehicle_id" uuid NOT NULL,
	"month" date NOT NULL,
	"days" integer NOT NULL,
	"active_days" integer NOT NULL,
	"active_without_counter" integer NOT NULL,
	"active_without_sensor" integer NOT NULL,
	"rated_days" integer NOT NULL,
	"sensor_days" integer NOT NULL,
	"points" double precision NOT NULL,
	"distance_km" double precision NOT NULL,
	"distance_outside_hours_km" double precision NOT NULL,
	"driving_s" double precision NOT NULL,
	"idle_s" double precision NOT NULL,
	"engine_s" double precision NOT NULL,
	"max_speed_kmh" double precision NOT NULL,
	"trip_count" double precision NOT NULL,
	"fuel_used_litres" double precision NOT NULL,
	"counter_litres" double precision,
	"sensor_litres" double precision,
	"rated_litres" double precision NOT NULL,
	"idle_litres" double precision NOT NULL,
	"counter_idle_litres" double precision NOT NULL,
	"refuel_count" double precision NOT NULL,
	"refuel_litres" double precision NOT NULL,
	"drain_count" double precision NOT NULL,
	"drain_litres" double precision NOT NULL,
	CONSTRAINT "vehicle_month_rollups_pkey" PRIMARY KEY("vehicle_id","month")
);
--> statement-breakpoint
ALTER TABLE "vehicle_month_rollups" ADD CONSTRAINT "vehicle_month_rollups_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "vehicle_month_rollups_month_idx" ON "vehicle_month_rollups" USING btree ("month");--> statement-breakpoint
INSERT INTO "vehicle_month_rollups" ("vehicle_id", "month", "days", "active_days", "active_without_counter", "active_without_sensor", "rated_days", "sensor_days", "points", "distance_km", "distance_outside_hours_km", "driving_s", "idle_s", "engine_s", "max_speed_kmh", "trip_count", "fuel_used_litres", "counter_litres", "sensor_litres", "rated_litres", "idle_litres", "counter_idle_litres", "refuel_count", "refuel_litres", "drain_count", "drain_litres")
SELECT "vehicle_id", date_trunc('month', "day")::date, count(*), count(*) FILTER (WHERE "active"), count(*) FILTER (WHERE "active" AND "counter_litres" IS NULL),
       count(*) FILTER (WHERE "active" AND "sensor_litres" IS NULL), count(*) FILTER (WHERE "active" AND "fuel_source" = 'rated'),
       count(*) FILTER (WHERE "active" AND "fuel_source" = 'sensor'), sum("points"), sum("distance_km"), sum("distance_outside_hours_km"),
       sum("driving_s"), sum("idle_s"), sum("engine_s"), max("max_speed_kmh"), sum("trip_count"), sum("fuel_used_litres"), sum("counter_litres"),
       sum("sensor_litres"), sum("rated_litres"), sum("idle_litres"), coalesce(sum("idle_litres") FILTER (WHERE "fuel_source" = 'counter'), 0),
       sum("refuel_count"), sum("refuel_litres"), sum("drain_count"), sum("drain_litres")
  FROM (SELECT *, ("distance_km" > 0 OR "engine_s" > 0) AS "active" FROM "vehicle_day_rollups") AS r
 GROUP BY "vehicle_id", date_trunc('month', "day");
