ALTER TABLE "metrics" DROP CONSTRAINT "metrics_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "metrics" DROP CONSTRAINT "metrics_variant_id_variants_id_fk";
--> statement-breakpoint
ALTER TABLE "metrics" DROP CONSTRAINT "metrics_campaign_id_campaigns_id_fk";
