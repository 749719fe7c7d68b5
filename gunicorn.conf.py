"""gunicorn settings for OGI Desk (`make run`; a deployment runs `gunicorn -c gunicorn.conf.py wsgi:app`).

Every value comes from app/config.py, where each setting is declared once with its default.
"""
import multiprocessing
import os

from app.config import Config

bind = Config.OGI_BIND
# Letters and case files are CPU-bound (WeasyPrint): a process per core, plus one so a core is
# never idle while a worker waits on the database; threads serve the many short page requests.
workers = Config.WEB_WORKERS or multiprocessing.cpu_count() + 1
worker_class = "gthread"
threads = Config.WEB_THREADS
timeout = Config.WEB_TIMEOUT
graceful_timeout = 30
keepalive = 5
# Each worker imports wsgi.py itself (no preload): the database engine, the OCR thread and the
# PDF engines are never shared across a fork. wsgi.py warms each worker up before it serves.
preload_app = False
raw_env = ["OGI_WARM_UP=1"] if "OGI_WARM_UP" not in os.environ else []
accesslog = "-"
errorlog = "-"
# A request line or header this long is an attack, not a form (the forms post bodies).
limit_request_line = 8190
# gunicorn's control socket sits in the home directory, shared by every instance on the host;
# a service manager (systemd) or signals do that job here.
control_socket_disable = True
