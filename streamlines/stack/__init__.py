"""Install, start, stop and health-check the local services as native processes."""
