"""GIS interoperability: the layers the registry exchanges with GIS tools (``fields``), importing
files into them (``importer``, ``profiles``), exporting them (``exporter``) and serving them as
OGC API - Features (``ogc``)."""
