ALTER TABLE "variants" ADD COLUMN "reserved_usd" numeric(12, 4);--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "provider_status" text;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "provider_code" text;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "recreates" integer DEFAULT 0 NOT NULL;