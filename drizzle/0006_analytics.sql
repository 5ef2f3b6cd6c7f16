CREATE TABLE "analytics_buckets" (
	"channel_id" uuid NOT NULL,
	"granularity" text NOT NULL,
	"t" timestamp with time zone NOT NULL,
	"views" integer DEFAULT 0 NOT NULL,
	"page_views" integer DEFAULT 0 NOT NULL,
	"watch_ms" bigint DEFAULT 0 NOT NULL,
	"conc_sum" bigint DEFAULT 0 NOT NULL,
	"conc_samples" integer DEFAULT 0 NOT NULL,
	"peak_concurrent" integer DEFAULT 0 NOT NULL,
	"unique_viewers" integer DEFAULT 0 NOT NULL,
	"hll" "bytea",
	CONSTRAINT "analytics_buckets_channel_id_granularity_t_pk" PRIMARY KEY("channel_id","granularity","t")
);
--> statement-breakpoint
CREATE TABLE "analytics_site_days" (
	"t" timestamp with time zone PRIMARY KEY NOT NULL,
	"unique_viewers" integer DEFAULT 0 NOT NULL,
	"hll" "bytea"
);
--> statement-breakpoint
ALTER TABLE "stream_sessions" ADD COLUMN "watch_time_ms" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "analytics_buckets" ADD CONSTRAINT "analytics_buckets_channel_id_channels_id_fk" FOREIGN KEY ("channel_id") REFERENCES "public"."channels"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "analytics_buckets_retention_idx" ON "analytics_buckets" USING btree ("granularity","t");