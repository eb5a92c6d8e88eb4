"""For gunicorn: `gunicorn 'server.wsgi:app'`; configuration comes from SPILNO_* variables."""

from server import create_app

app = create_app()
