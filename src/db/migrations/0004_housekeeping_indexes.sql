-- Housekeeping (src/movr/housekeeping.ts) purges expired rows a batch at a time: these indexes let it
-- find them without scanning the tables.
CREATE INDEX IF NOT EXISTS "api_tokens_expires_at" ON "api_tokens" ("expires_at");
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "idempotency_keys_expires_at" ON "idempotency_keys" ("expires_at");
