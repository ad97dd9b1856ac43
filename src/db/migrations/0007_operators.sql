-- Operators (decision 0023), what they did, promo campaigns' rules as nullable columns of
-- promo_codes (decision 0024), and the index of the operators' dashboard (decision 0025).
CREATE TABLE IF NOT EXISTS "operators" (
	"city" varchar NOT NULL,
	"user_id" uuid NOT NULL,
	"granted_at" timestamp NOT NULL,
	CONSTRAINT "operators_pkey" PRIMARY KEY("city","user_id"),
	CONSTRAINT "operators_user_fk" FOREIGN KEY ("city","user_id") REFERENCES "users"("city","id") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "operator_actions" (
	"city" varchar NOT NULL,
	"id" uuid NOT NULL,
	"operator_id" uuid NOT NULL,
	"operator_username" varchar,
	"action" varchar NOT NULL,
	"subject" varchar NOT NULL,
	"details" jsonb,
	"at" timestamp NOT NULL,
	CONSTRAINT "operator_actions_pkey" PRIMARY KEY("city","id")
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "operator_actions_at" ON "operator_actions" ("at" DESC);
--> statement-breakpoint
ALTER TABLE "promo_codes" ADD COLUMN IF NOT EXISTS "redemption_limit" integer;
--> statement-breakpoint
ALTER TABLE "promo_codes" ADD COLUMN IF NOT EXISTS "redemptions" integer;
--> statement-breakpoint
ALTER TABLE "promo_codes" ADD COLUMN IF NOT EXISTS "per_rider_limit" integer;
--> statement-breakpoint
ALTER TABLE "promo_codes" ADD COLUMN IF NOT EXISTS "cities" varchar[];
--> statement-breakpoint
ALTER TABLE "promo_codes" ADD COLUMN IF NOT EXISTS "regions" varchar[];
--> statement-breakpoint
ALTER TABLE "promo_codes" ADD COLUMN IF NOT EXISTS "listed" boolean;
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "rides_city_end_time" ON "rides" ("city","end_time");
