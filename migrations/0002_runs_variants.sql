CREATE TABLE "events" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "provider_calls" (
	"provider" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"variant_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_variants" (
	"run_id" text NOT NULL,
	"variant_id" text NOT NULL,
	CONSTRAINT "run_variants_run_id_variant_id_pk" PRIMARY KEY("run_id","variant_id")
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"matrix_id" text NOT NULL,
	"design" jsonb NOT NULL,
	"status" text NOT NULL,
	"variant_count" integer NOT NULL,
	"new_variant_count" integer NOT NULL,
	"estimated_cost_usd" numeric(14, 4) NOT NULL,
	"max_cost_usd" numeric(14, 4),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "variants" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"run_id" text NOT NULL,
	"variant_key" text NOT NULL,
	"levels" jsonb NOT NULL,
	"prompt" text NOT NULL,
	"provider" text NOT NULL,
	"model" text NOT NULL,
	"seconds" integer NOT NULL,
	"size" text NOT NULL,
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
	"raw_key" text,
	"video_key" text,
	"thumbnail_key" text,
	"video_bytes" integer,
	"video_sha256" text,
	"duration_s" numeric(10, 3),
	"width" integer,
	"height" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_variants" ADD CONSTRAINT "run_variants_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "run_variants" ADD CONSTRAINT "run_variants_variant_id_variants_id_fk" FOREIGN KEY ("variant_id") REFERENCES "public"."variants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "runs" ADD CONSTRAINT "runs_matrix_id_matrices_id_fk" FOREIGN KEY ("matrix_id") REFERENCES "public"."matrices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variants" ADD CONSTRAINT "variants_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variants" ADD CONSTRAINT "variants_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "variants" ADD CONSTRAINT "variants_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_tenant_idx" ON "events" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "provider_calls_idx" ON "provider_calls" USING btree ("provider","at");--> statement-breakpoint
CREATE INDEX "run_variants_variant_idx" ON "run_variants" USING btree ("variant_id");--> statement-breakpoint
CREATE INDEX "runs_campaign_idx" ON "runs" USING btree ("tenant_id","campaign_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "variants_campaign_key_idx" ON "variants" USING btree ("campaign_id","variant_key");--> statement-breakpoint
CREATE INDEX "variants_tenant_idx" ON "variants" USING btree ("tenant_id","id");--> statement-breakpoint
CREATE INDEX "variants_run_idx" ON "variants" USING btree ("run_id","status");--> statement-breakpoint
CREATE INDEX "variants_status_idx" ON "variants" USING btree ("status","updated_at");--> statement-breakpoint
CREATE UNIQUE INDEX "variants_provider_job_idx" ON "variants" USING btree ("provider","provider_job_id");