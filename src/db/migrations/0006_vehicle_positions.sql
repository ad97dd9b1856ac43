-- Where each vehicle is parked (issue 14): new nullable columns, so rows written by
-- `cockroach workload init movr` and by earlier MovR versions stay valid (their position is unknown).
ALTER TABLE "vehicles" ADD COLUMN IF NOT EXISTS "lat" double precision;
--> statement-breakpoint
ALTER TABLE "vehicles" ADD COLUMN IF NOT EXISTS "long" double precision;
--> statement-breakpoint
-- "Near me" reads a bounding box of a city's vehicles from this index (docs/decisions/0020).
CREATE INDEX IF NOT EXISTS "vehicles_city_lat_long" ON "vehicles" ("city", "lat", "long");
