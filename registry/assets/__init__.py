"""Parks, plots, buildings and units: finding, creating and editing them, and their data quality."""
