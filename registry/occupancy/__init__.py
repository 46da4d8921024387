"""Occupancy for park management companies: unit states on a date, lease actions, the park's
figures, the stacking plan, reports, the Excel bulk update and the bureau-report summary."""
