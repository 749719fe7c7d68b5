"""PDF building blocks below the letters and the case file: font subsetting and merging, PDF/A, image de-duplication (no Flask, no models)."""
