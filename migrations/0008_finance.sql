CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"key_id" uuid,
	"key_name" text,
	"action" text NOT NULL,
	"entity" text NOT NULL,
	"entity_id" text,
	"department_id" uuid,
	"before" jsonb,
	"after" jsonb
);
--> statement-breakpoint
CREATE TABLE "department_budgets" (
	"department_id" uuid NOT NULL,
	"year" integer NOT NULL,
	"amount_idr" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "department_budgets_pkey" PRIMARY KEY("department_id","year"),
	CONSTRAINT "department_budgets_nonneg" CHECK ("department_budgets"."amount_idr" >= 0)
);
--> statement-breakpoint
CREATE TABLE "fuel_prices" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"fuel_type" text NOT NULL,
	"price_idr_per_litre" bigint NOT NULL,
	"valid_from" date NOT NULL,
	"source" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_key_id" uuid,
	CONSTRAINT "fuel_prices_positive" CHECK ("fuel_prices"."price_idr_per_litre" > 0)
);
--> statement-breakpoint
CREATE TABLE "fuel_purchases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint NOT NULL,
	"kind" text NOT NULL,
	"voids_id" uuid,
	"reason" text,
	"vehicle_id" uuid NOT NULL,
	"department_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"litres" numeric(12, 3) NOT NULL,
	"amount_idr" bigint NOT NULL,
	"fuel_type" text NOT NULL,
	"station_code" text,
	"lat" double precision,
	"lon" double precision,
	"receipt_no" text,
	"odometer_km" double precision,
	"voucher_code" text,
	"source" text DEFAULT 'api' NOT NULL,
	"idempotency_key" text,
	"request_sha256" text,
	"entry_flags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_key_id" uuid,
	"created_by_key_name" text,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "fuel_purchases_litres_positive" CHECK ("fuel_purchases"."litres" > 0),
	CONSTRAINT "fuel_purchases_amount_nonneg" CHECK ("fuel_purchases"."amount_idr" >= 0)
);
--> statement-breakpoint
CREATE TABLE "fuel_stations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"lat" double precision NOT NULL,
	"lon" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "fuel_vouchers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"code" text NOT NULL,
	"vehicle_id" uuid NOT NULL,
	"department_id" uuid NOT NULL,
	"requested_litres" numeric(12, 3),
	"granted_litres" numeric(12, 3) NOT NULL,
	"limited_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_by_key_id" uuid
);
--> statement-breakpoint
CREATE TABLE "month_closings" (
	"month" date PRIMARY KEY NOT NULL,
	"closed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_by_key_id" uuid,
	"closed_by_key_name" text,
	"snapshot" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "purchase_verdicts" (
	"purchase_id" uuid PRIMARY KEY NOT NULL,
	"vehicle_id" uuid NOT NULL,
	"status" text NOT NULL,
	"flags" jsonb NOT NULL,
	"refuel" jsonb,
	"judged_at" timestamp with time zone NOT NULL,
	"settled_at" timestamp with time zone,
	"alerted_kinds" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vehicle_allocations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"vehicle_id" uuid NOT NULL,
	"litres" numeric(12, 3) NOT NULL,
	"from_month" date NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by_key_id" uuid,
	CONSTRAINT "vehicle_allocations_nonneg" CHECK ("vehicle_allocations"."litres" >= 0)
);
--> statement-breakpoint
ALTER TABLE "department_budgets" ADD CONSTRAINT "department_budgets_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fuel_purchases" ADD CONSTRAINT "fuel_purchases_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fuel_vouchers" ADD CONSTRAINT "fuel_vouchers_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "vehicle_allocations" ADD CONSTRAINT "vehicle_allocations_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_entity_idx" ON "audit_log" USING btree ("entity","entity_id");--> statement-breakpoint
CREATE UNIQUE INDEX "fuel_prices_type_from_key" ON "fuel_prices" USING btree ("fuel_type","valid_from");--> statement-breakpoint
CREATE UNIQUE INDEX "fuel_purchases_seq_key" ON "fuel_purchases" USING btree ("seq");--> statement-breakpoint
CREATE UNIQUE INDEX "fuel_purchases_voids_key" ON "fuel_purchases" USING btree ("voids_id");--> statement-breakpoint
CREATE UNIQUE INDEX "fuel_purchases_idempotency_key" ON "fuel_purchases" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "fuel_purchases_vehicle_at_idx" ON "fuel_purchases" USING btree ("vehicle_id","at");--> statement-breakpoint
CREATE INDEX "fuel_purchases_department_at_idx" ON "fuel_purchases" USING btree ("department_id","at");--> statement-breakpoint
CREATE INDEX "fuel_purchases_receipt_idx" ON "fuel_purchases" USING btree ("vehicle_id","receipt_no");--> statement-breakpoint
CREATE UNIQUE INDEX "fuel_stations_code_key" ON "fuel_stations" USING btree ("code");--> statement-breakpoint
CREATE UNIQUE INDEX "fuel_vouchers_code_key" ON "fuel_vouchers" USING btree ("code");--> statement-breakpoint
CREATE INDEX "fuel_vouchers_vehicle_idx" ON "fuel_vouchers" USING btree ("vehicle_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "vehicle_allocations_vehicle_month_key" ON "vehicle_allocations" USING btree ("vehicle_id","from_month");--> statement-breakpoint
-- The ledger, the price history and the audit log are append-only whatever the application
-- does: the database itself refuses to change or remove a row (a correction is a new entry).
CREATE OR REPLACE FUNCTION armada_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;--> statement-breakpoint
CREATE TRIGGER fuel_purchases_append_only BEFORE UPDATE OR DELETE ON "fuel_purchases" FOR EACH ROW EXECUTE FUNCTION armada_refuse_change();--> statement-breakpoint
CREATE TRIGGER fuel_purchases_no_truncate BEFORE TRUNCATE ON "fuel_purchases" FOR EACH STATEMENT EXECUTE FUNCTION armada_refuse_change();--> statement-breakpoint
CREATE TRIGGER fuel_prices_append_only BEFORE UPDATE OR DELETE ON "fuel_prices" FOR EACH ROW EXECUTE FUNCTION armada_refuse_change();--> statement-breakpoint
CREATE TRIGGER fuel_prices_no_truncate BEFORE TRUNCATE ON "fuel_prices" FOR EACH STATEMENT EXECUTE FUNCTION armada_refuse_change();--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION armada_refuse_change();--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON "audit_log" FOR EACH STATEMENT EXECUTE FUNCTION armada_refuse_change();--> statement-breakpoint
-- Existing vehicles keep their allocation as their first (which applies from the beginning).
INSERT INTO "vehicle_allocations" ("vehicle_id", "litres", "from_month")
SELECT "id", "monthly_allocation_litres"::numeric(12, 3), date_trunc('month', "created_at" AT TIME ZONE 'Asia/Makassar')::date
FROM "vehicles";
