"""The Switchyard CDK app: one stack per concern and region, composed in app_builder."""
