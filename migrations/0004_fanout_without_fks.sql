ALTER TABLE "run_variants" DROP CONSTRAINT "run_variants_run_id_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "run_variants" DROP CONSTRAINT "run_variants_variant_id_variants_id_fk";
--> statement-breakpoint
ALTER TABLE "variants" DROP CONSTRAINT "variants_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "variants" DROP CONSTRAINT "variants_campaign_id_campaigns_id_fk";
--> statement-breakpoint
ALTER TABLE "variants" DROP CONSTRAINT "variants_run_id_runs_id_fk";
