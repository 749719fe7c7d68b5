# OGI Desk — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
DEBIAN_PACKAGES := chromium fonts-noto-cjk fonts-arphic-ukai fonts-hanazono fonts-cwtex-fs poppler-utils postgresql-client tesseract-ocr tesseract-ocr-chi-sim redis-server

.PHONY: run test test-sqlite test-pg deps system-deps postgres clean bench-load

$(VENV)/.installed: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

deps: $(VENV)/.installed system-deps
	@# Letter fonts are cut once per machine (about a minute) and cached under instance/fonts/.
	$(PY) -m app.letters prepare-fonts

# Debian packages the app and its tests need: CJK fonts for the letters, Chromium for the browser test.
system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null \
	    || { $$SUDO apt-get update -q >/dev/null && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; }; \
	fi

# The tests also run on PostgreSQL (127.0.0.1:5432, trust auth, database `test`); start it if it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "Starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start; \
	  for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

# The session-signing key: generated once into instance/ (never in git), kept across runs.
instance/secret_key:
	@mkdir -p instance
	@umask 077 && $(PY) -c 'import secrets; print(secrets.token_hex(32))' > $@.tmp && mv $@.tmp $@
	@echo "Generated $@"

PORT ?= 5000

# Serves through gunicorn (gunicorn.conf.py) with the task queue's worker (`flask worker`) beside it;
# Ctrl-C stops both (the worker finishes its running task: SIGINT is Huey's graceful stop).
# `flask --app wsgi run` stays for development.
run: deps instance/secret_key
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "OGI Desk: http://127.0.0.1:$(PORT)"
	@$(FLASK) worker & worker=$$!; \
	trap 'kill -INT $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM; \
	OGI_BIND=127.0.0.1:$(PORT) OGI_WARM_UP=1 $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# The two suites run side by side: much of their time is spent waiting on worker processes,
# servers and the database, so together they take about as long as the longer one.
test: deps postgres
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-pg

test-sqlite: deps
	TEST_DATABASE_URL= $(PY) -m pytest -q -p no:cacheprovider

test-pg: deps postgres
	TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -q -p no:cacheprovider

# The load test's client (locust) lives in its own virtualenv: none of it is the app's.
.venv-bench/.installed: bench/requirements.txt
	test -d .venv-bench || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	touch $@

# 50 users for 60 s against gunicorn and then `flask run` on the report bench's 200,000-case
# PostgreSQL database (BENCH_PG_DB, built first when missing); loopback only; writes docs/performance.md.
BENCH_PG_DB ?= ogidesk_bench
bench-load: deps postgres .venv-bench/.installed
	@psql -h 127.0.0.1 -U postgres -lqt | cut -d'|' -f1 | grep -qw $(BENCH_PG_DB) \
	  || BENCH_PG_DB=$(BENCH_PG_DB) $(PY) bench/bench_reports.py --only pg --no-doc
	BENCH_PG_DB=$(BENCH_PG_DB) $(PY) bench/load_test.py $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .venv-bench instance .pytest_cache
