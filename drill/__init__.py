"""The local game day: fail a region against an embedded AWS emulation and measure RTO and RPO."""
