-- The web site's server-side sessions (revocable): the cookie carries a random token, "id" is its hash.
CREATE TABLE IF NOT EXISTS "sessions" (
	"city" varchar NOT NULL,
	"user_id" uuid NOT NULL,
	"id" varchar NOT NULL,
	"created_at" timestamp NOT NULL,
	"last_seen_at" timestamp NOT NULL,
	"expires_at" timestamp NOT NULL,
	"user_agent" varchar,
	"address" varchar,
	CONSTRAINT "sessions_pkey" PRIMARY KEY("city","user_id","id"),
	CONSTRAINT "sessions_user_fk" FOREIGN KEY ("city","user_id") REFERENCES "users"("city","id") ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "sessions_expires_at" ON "sessions" ("expires_at");
