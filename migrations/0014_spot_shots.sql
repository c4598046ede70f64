CREATE TABLE "shots" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"shot_key" text NOT NULL,
	"identity" text NOT NULL,
	"prompt" text NOT NULL,
	"provider_prompt" text,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"seconds" integer NOT NULL,
	"size" text NOT NULL,
	"reference_asset_id" text,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"progress" integer DEFAULT 0 NOT NULL,
	"provider_job_id" text,
	"submit_started_at" timestamp with time zone,
	"submitted_at" timestamp with time zone,
	"ready_at" timestamp with time zone,
	"error_code" text,
	"error_message" text,
	"cost_usd" numeric(12, 4) NOT NULL,
	"actual_cost_usd" numeric(12, 4) DEFAULT 0 NOT NULL,
	"reserved_usd" numeric(12, 4),
	"provider_status" text,
	"provider_code" text,
	"recreates" integer DEFAULT 0 NOT NULL,
	"raw_key" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "variant_shots" (
	"variant_id" text NOT NULL,
	"position" integer NOT NULL,
	"shot_id" text NOT NULL,
	CONSTRAINT "variant_shots_variant_id_position_pk" PRIMARY KEY("variant_id","position")
);
--> statement-breakpoint
ALTER TABLE "campaigns" ADD COLUMN "spot" jsonb;--> statement-breakpoint
CREATE UNIQUE INDEX "shots_campaign_identity_idx" ON "shots" USING btree ("campaign_id","identity");--> statement-breakpoint
CREATE INDEX "shots_tenant_idx" ON "shots" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "shots_status_idx" ON "shots" USING btree ("status","updated_at");--> statement-breakpoint
CREATE UNIQUE INDEX "shots_provider_job_idx" ON "shots" USING btree ("provider","provider_job_id");--> statement-breakpoint
CREATE INDEX "variant_shots_shot_idx" ON "variant_shots" USING btree ("shot_id");