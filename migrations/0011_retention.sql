CREATE TABLE "telemetry_dropped_months" (
	"month" date PRIMARY KEY NOT NULL,
	"partition_name" text NOT NULL,
	"kept_from" timestamp with time zone NOT NULL,
	"approx_rows" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	"dropped_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- A month the retention dropped is never created again: a late reading for it must go to
-- quarantine (beyond_retention, judged by the ingest worker), not into a new, nearly empty
-- partition whose rollups would then be recomputed from almost nothing. Should a worker
-- that has not yet learnt the new horizon try, this refuses; its batch fails, the worker
-- reads the horizon again and quarantines the reading.
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
  IF EXISTS (SELECT 1 FROM telemetry_dropped_months WHERE month >= (month_start AT TIME ZONE 'UTC')::date) THEN
    RAISE EXCEPTION 'telemetry for % is beyond retention: its month, or a later one, was dropped', to_char(month_start AT TIME ZONE 'UTC', 'YYYY-MM')
      USING ERRCODE = 'check_violation', HINT = 'readings before telemetry_dropped_months.kept_from are quarantined as beyond_retention';
  END IF;
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
