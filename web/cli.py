"""``registry serve``: the web app on 127.0.0.1 (contributed to the registry CLI by entry point)."""
from __future__ import annotations

import click


@click.command(help="Serve the web app (development server) on 127.0.0.1.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True)
@click.pass_obj
def serve(obj, host, port, debug):
    from . import create_app
    app = create_app({"DATABASE_URL": obj["url"]} if obj and obj.get("url") else None)
    click.echo(f"serving {obj['url'].split('://')[0] if obj else ''} registry on http://{host}:{port}/")
    app.run(host=host, port=port, debug=debug, use_reloader=False)
