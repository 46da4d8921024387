"""Spatial math and files for the registry: CRS, areas in m² and 亩, GCJ-02/BD-09, geometry checks.

This package knows nothing of parks, databases or the web. It turns coordinates into valid shapely
geometries in the storage CRS (EPSG:4490, CGCS2000) and measures them.
"""
