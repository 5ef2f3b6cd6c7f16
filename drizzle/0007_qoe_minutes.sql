CREATE TABLE "qoe_minutes" (
	"channel_id" uuid NOT NULL,
	"session_id" uuid,
	"minute" timestamp with time zone NOT NULL,
	"startup_hist" integer[] DEFAULT '{}' NOT NULL,
	"latency_hist" integer[] DEFAULT '{}' NOT NULL,
	"played_ms" bigint DEFAULT 0 NOT NULL,
	"stalled_ms" bigint DEFAULT 0 NOT NULL,
	"stalls" integer DEFAULT 0 NOT NULL,
	"errors" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reports" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "qoe_minutes_key" UNIQUE NULLS NOT DISTINCT("channel_id","minute","session_id")
);
--> statement-breakpoint
ALTER TABLE "qoe_minutes" ADD CONSTRAINT "qoe_minutes_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "qoe_minutes_session_idx" ON "qoe_minutes" USING btree ("session_id");