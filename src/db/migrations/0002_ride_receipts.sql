-- Receipts of ended rides, and an index for a rider's rides newest first. (No NULLS FIRST/LAST
-- in the index: CockroachDB does not accept it there, and start_time is never NULL in MovR.)
CREATE TABLE IF NOT EXISTS "ride_receipts" (
	"city" varchar NOT NULL,
	"ride_id" uuid NOT NULL,
	"vehicle_type" varchar,
	"minutes" integer NOT NULL,
	"unlock_cents" integer NOT NULL,
	"per_minute_cents" integer NOT NULL,
	"fare_cents" integer NOT NULL,
	"promo_code" varchar,
	"discount_percent" double precision NOT NULL,
	"discount_cents" integer NOT NULL,
	"total_cents" integer NOT NULL,
	"created_at" timestamp NOT NULL,
	CONSTRAINT "ride_receipts_pkey" PRIMARY KEY("city","ride_id"),
	CONSTRAINT "ride_receipts_ride_fk" FOREIGN KEY ("city","ride_id") REFERENCES "rides"("city","id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "rides_rider_start_time" ON "rides" ("city","rider_id","start_time" DESC,"id" DESC);
