"""Storage: configuration, engines and sessions for SpatiaLite and PostGIS, backend-specific
spatial SQL, migrations, bulk writes, backups, health and upload staging. The only code that
asks which backend it runs on."""
