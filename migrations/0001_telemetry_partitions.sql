-- telemetry is range-partitioned by calendar month (UTC) on fix_at.
-- armada_ensure_telemetry_partition(ts) creates the month partition holding ts if it
-- is missing and returns its name. The ingest worker calls it for each month it has
-- not yet seen in this process, and at start for the months around now, so a
-- device flushing old buffered readings finds its partition too. Two sessions may race
-- to create the same partition: the advisory lock orders them, and the exception
-- handler covers a catalog snapshot that has not yet seen the winner's table.
CREATE OR REPLACE FUNCTION armada_ensure_telemetry_partition(ts timestamptz)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
  month_start timestamptz := date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  month_end timestamptz := month_start + interval '1 month';
  part_name text := 'telemetry_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
BEGIN
  IF to_regclass(part_name) IS NOT NULL THEN
    RETURN part_name;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('armada_telemetry_partition'));
  BEGIN
    EXECUTE format(
      'CREATE TABLE IF NOT EXISTS %I PARTITION OF telemetry FOR VALUES FROM (%L) TO (%L)',
      part_name, month_start, month_end
    );
  EXCEPTION WHEN duplicate_table OR unique_violation THEN
    -- Another session created it between our check and our CREATE: that is the goal.
    NULL;
  END;
  RETURN part_name;
END;
$$;
