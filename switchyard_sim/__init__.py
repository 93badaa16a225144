"""Switchyard in production time, in memory: the runbook's own ASL (the file the stacks
deploy) interpreted on a SimPy clock, so every Wait, Retry interval and task duration
elapses in simulated production seconds and a whole failover runs in milliseconds, as
often as a benchmark needs. No threads, no real sleeping, no wall clock."""
