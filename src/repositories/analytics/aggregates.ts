/** The SQL that sums day rollups into a run of days or a month, shared by the month rows and the fleet report. */

/** The sums a run of days (or months) adds up to; `r` is day rows with an `active` column. */
export const DAY_AGGREGATES = `count(*)::int AS days, count(*) FILTER (WHERE active)::int AS active_days,
  count(*) FILTER (WHERE active AND counter_litres IS NULL)::int AS active_without_counter,
  count(*) FILTER (WHERE active AND sensor_litres IS NULL)::int AS active_without_sensor,
  count(*) FILTER (WHERE active AND fuel_source = 'rated')::int AS rated_days,
  count(*) FILTER (WHERE active AND fuel_source = 'sensor')::int AS sensor_days,
  sum(points)::float8 AS points, sum(distance_km) AS distance_km, sum(distance_outside_hours_km) AS distance_outside_hours_km,
  sum(driving_s) AS driving_s, sum(idle_s) AS idle_s, sum(engine_s) AS engine_s, max(max_speed_kmh)::float8 AS max_speed_kmh,
  sum(trip_count)::float8 AS trip_count, sum(fuel_used_litres) AS fuel_used_litres, sum(counter_litres) AS counter_litres,
  sum(sensor_litres) AS sensor_litres, sum(rated_litres) AS rated_litres, sum(idle_litres) AS idle_litres,
  coalesce(sum(idle_litres) FILTER (WHERE fuel_source = 'counter'), 0) AS counter_idle_litres,
  sum(refuel_count)::float8 AS refuel_count, sum(refuel_litres) AS refuel_litres,
  sum(drain_count)::float8 AS drain_count, sum(drain_litres) AS drain_litres`;

/** The same sums over month rows. */
export const MONTH_AGGREGATES = `sum(days)::int AS days, sum(active_days)::int AS active_days, sum(active_without_counter)::int AS active_without_counter,
  sum(active_without_sensor)::int AS active_without_sensor, sum(rated_days)::int AS rated_days, sum(sensor_days)::int AS sensor_days,
  sum(points) AS points, sum(distance_km) AS distance_km, sum(distance_outside_hours_km) AS distance_outside_hours_km,
  sum(driving_s) AS driving_s, sum(idle_s) AS idle_s, sum(engine_s) AS engine_s, max(max_speed_kmh) AS max_speed_kmh,
  sum(trip_count) AS trip_count, sum(fuel_used_litres) AS fuel_used_litres, sum(counter_litres) AS counter_litres,
  sum(sensor_litres) AS sensor_litres, sum(rated_litres) AS rated_litres, sum(idle_litres) AS idle_litres,
  sum(counter_idle_litres) AS counter_idle_litres, sum(refuel_count) AS refuel_count, sum(refuel_litres) AS refuel_litres,
  sum(drain_count) AS drain_count, sum(drain_litres) AS drain_litres`;

export const MONTH_COLUMNS = `days, active_days, active_without_counter, active_without_sensor, rated_days, sensor_days, points, distance_km,
  distance_outside_hours_km, driving_s, idle_s, engine_s, max_speed_kmh, trip_count, fuel_used_litres, counter_litres, sensor_litres,
  rated_litres, idle_litres, counter_idle_litres, refuel_count, refuel_litres, drain_count, drain_litres`;
