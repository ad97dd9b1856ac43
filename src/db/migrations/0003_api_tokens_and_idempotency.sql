-- The JSON API's revocable bearer tokens, and stored first responses for Idempotency-Key retries.
CREATE TABLE IF NOT EXISTS "api_tokens" (
	"city" varchar NOT NULL,
	"user_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"created_at" timestamp NOT NULL,
	"expires_at" timestamp NOT NULL,
	"revoked_at" timestamp,
	CONSTRAINT "api_tokens_pkey" PRIMARY KEY("city","user_id","id"),
	CONSTRAINT "api_tokens_user_fk" FOREIGN KEY ("city","user_id") REFERENCES "users"("city","id") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE IF NOT EXISTS "idempotency_keys" (
	"city" varchar NOT NULL,
	"user_id" uuid NOT NULL,
	"key" varchar NOT NULL,
	"request_hash" varchar NOT NULL,
	"status_code" integer NOT NULL,
	"response" jsonb NOT NULL,
	"created_at" timestamp NOT NULL,
	"expires_at" timestamp NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("city","user_id","key"),
	CONSTRAINT "idempotency_keys_user_fk" FOREIGN KEY ("city","user_id") REFERENCES "users"("city","id") ON DELETE CASCADE
);
