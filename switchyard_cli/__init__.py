"""The operator CLI: ``switchyard status|readiness|failover|switchover|failback|dry-run|approve|unlock``."""
