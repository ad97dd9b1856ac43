-- The six tables of `cockroach workload init movr`, with its constraint and index names.
-- Every statement is IF NOT EXISTS, so this migration also adopts a database that the
-- CockroachDB workload created. Foreign keys are inline for the same reason.
CREATE TABLE IF NOT EXISTS "users" (
	"id" uuid NOT NULL,
	"city" varchar NOT NULL,
	"name" varchar,
	"address" varchar,
	"credit_card" varchar,
	CONSTRAINT "users_pkey" PRIMARY KEY("city","id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "vehicles" (
	"id" uuid NOT NULL,
	"city" varchar NOT NULL,
	"type" varchar,
	"owner_id" uuid,
	"creation_time" timestamp,
	"status" varchar,
	"current_location" varchar,
	"ext" jsonb,
	CONSTRAINT "vehicles_pkey" PRIMARY KEY("city","id"),
	CONSTRAINT "fk_city_ref_users" FOREIGN KEY ("city","owner_id") REFERENCES "users"("city","id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "vehicles_auto_index_fk_city_ref_users" ON "vehicles" ("city","owner_id");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "rides" (
	"id" uuid NOT NULL,
	"city" varchar NOT NULL,
	"vehicle_city" varchar,
	"rider_id" uuid,
	"vehicle_id" uuid,
	"start_address" varchar,
	"end_address" varchar,
	"start_time" timestamp,
	"end_time" timestamp,
	"revenue" numeric(10, 2),
	CONSTRAINT "rides_pkey" PRIMARY KEY("city","id"),
	CONSTRAINT "check_vehicle_city_city" CHECK ("vehicle_city" = "city"),
	CONSTRAINT "fk_city_ref_users" FOREIGN KEY ("city","rider_id") REFERENCES "users"("city","id"),
	CONSTRAINT "fk_vehicle_city_ref_vehicles" FOREIGN KEY ("vehicle_city","vehicle_id") REFERENCES "vehicles"("city","id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "rides_auto_index_fk_city_ref_users" ON "rides" ("city","rider_id");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "rides_auto_index_fk_vehicle_city_ref_vehicles" ON "rides" ("vehicle_city","vehicle_id");
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "vehicle_location_histories" (
	"city" varchar NOT NULL,
	"ride_id" uuid NOT NULL,
	"timestamp" timestamp NOT NULL,
	"lat" double precision,
	"long" double precision,
	CONSTRAINT "vehicle_location_histories_pkey" PRIMARY KEY("city","ride_id","timestamp"),
	CONSTRAINT "fk_city_ref_rides" FOREIGN KEY ("city","ride_id") REFERENCES "rides"("city","id")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "promo_codes" (
	"code" varchar NOT NULL,
	"description" varchar,
	"creation_time" timestamp,
	"expiration_time" timestamp,
	"rules" jsonb,
	CONSTRAINT "promo_codes_pkey" PRIMARY KEY("code")
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "user_promo_codes" (
	"city" varchar NOT NULL,
	"user_id" uuid NOT NULL,
	"code" varchar NOT NULL,
	"timestamp" timestamp,
	"usage_count" integer,
	CONSTRAINT "user_promo_codes_pkey" PRIMARY KEY("city","user_id","code"),
	CONSTRAINT "fk_city_ref_users" FOREIGN KEY ("city","user_id") REFERENCES "users"("city","id")
);
