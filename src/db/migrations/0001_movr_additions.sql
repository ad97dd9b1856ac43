-- MovR's additions to the workload schema: only new tables, new indexes and constraints that
-- the workload's own data satisfies, so a workload-created database can still be adopted.
CREATE TABLE IF NOT EXISTS "user_credentials" (
	"city" varchar NOT NULL,
	"user_id" uuid NOT NULL,
	"username" varchar NOT NULL,
	"password_hash" varchar NOT NULL,
	"created_at" timestamp DEFAULT now() NOT NULL,
	CONSTRAINT "user_credentials_pkey" PRIMARY KEY("city","user_id"),
	CONSTRAINT "user_credentials_user_fk" FOREIGN KEY ("city","user_id") REFERENCES "users"("city","id") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "user_credentials_username_key" ON "user_credentials" ("username");
--> statement-breakpoint
ALTER TABLE "user_promo_codes" ADD CONSTRAINT "user_promo_codes_code_fk" FOREIGN KEY ("code") REFERENCES "promo_codes"("code");
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "rides_one_open_ride_per_vehicle" ON "rides" ("vehicle_city","vehicle_id") WHERE end_time IS NULL;
--> statement-breakpoint
CREATE UNIQUE INDEX IF NOT EXISTS "rides_one_open_ride_per_rider" ON "rides" ("city","rider_id") WHERE end_time IS NULL;
