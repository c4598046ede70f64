CREATE TABLE "signing_credentials" (
	"id" text PRIMARY KEY NOT NULL,
	"cert_pem" text NOT NULL,
	"key_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "digital_source_type" text;--> statement-breakpoint
ALTER TABLE "variants" ADD COLUMN "disclosure_text" text;