CREATE TABLE "variant_renditions" (
	"variant_id" text NOT NULL,
	"format" text NOT NULL,
	"tenant_id" text NOT NULL,
	"video_key" text NOT NULL,
	"width" integer NOT NULL,
	"height" integer NOT NULL,
	"duration_s" numeric(10, 3) NOT NULL,
	"bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "variant_renditions_variant_id_format_pk" PRIMARY KEY("variant_id","format")
);
--> statement-breakpoint
ALTER TABLE "shots" ADD COLUMN "previous_identity" text;--> statement-breakpoint
ALTER TABLE "shots" ADD COLUMN "first_frame_key" text;