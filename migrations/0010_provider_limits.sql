CREATE TABLE "provider_pauses" (
	"provider" text NOT NULL,
	"model" text DEFAULT '' NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"code" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_pauses_provider_model_pk" PRIMARY KEY("provider","model")
);
--> statement-breakpoint
ALTER TABLE "provider_calls" ADD COLUMN "id" bigserial PRIMARY KEY NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_calls" ADD COLUMN "model" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "provider_calls" ADD COLUMN "done_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "provider_calls" ADD COLUMN "outcome" text;--> statement-breakpoint
CREATE INDEX "provider_calls_model_idx" ON "provider_calls" USING btree ("provider","model","at");