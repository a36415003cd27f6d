"""Space-time analysis: the space-time cube, emerging hot spots, Mann-Kendall, near-repeat."""
