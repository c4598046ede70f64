CREATE INDEX "inbound_webhooks_received_idx" ON "inbound_webhooks" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery_idx" ON "webhook_attempts" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_settled_idx" ON "webhook_deliveries" USING btree ("created_at") WHERE status <> 'pending';