CREATE TABLE "department_alert_rules" (
	"department_id" uuid PRIMARY KEY NOT NULL,
	"weekdays" integer[] NOT NULL,
	"start_min" integer NOT NULL,
	"end_min" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "department_alert_rules_window" CHECK ("department_alert_rules"."start_min" >= 0 AND "department_alert_rules"."start_min" < "department_alert_rules"."end_min" AND "department_alert_rules"."end_min" <= 1440),
	CONSTRAINT "department_alert_rules_weekdays" CHECK (cardinality("department_alert_rules"."weekdays") BETWEEN 1 AND 7 AND "department_alert_rules"."weekdays" <@ ARRAY[1,2,3,4,5,6,7])
);
--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN "outside_hours_exempt" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "department_alert_rules" ADD CONSTRAINT "department_alert_rules_department_id_departments_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."departments"("id") ON DELETE no action ON UPDATE no action;